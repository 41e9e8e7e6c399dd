"""Analytics by playbook and by rule followed against broken, from the run metrics' code."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.analytics.breakdowns import core_metrics
from backend.analytics.service import metrics_document, trade_table
from backend.analytics.table import TradeTable
from backend.errors import NotFound
from backend.playbooks import repository
from backend.playbooks.expressions import playbook_is, rule_ticked
from backend.playbooks.schemas import OutcomeSummary, PlaybookAnalytics, RuleAnalytics


def outcome_summary(trades: TradeTable) -> OutcomeSummary:
    """Trade count, net P&L, win rate, expectancy and profit factor of closed trades."""
    values = core_metrics(trades)
    return OutcomeSummary(
        trades=values["trade_count"], net_pnl=values["net_pnl"] or 0.0,
        win_rate=values["win_rate"], expectancy=values["expectancy"],
        profit_factor=values["profit_factor"],
    )  # fmt: skip


def playbook_analytics(session: Session, user_id: int, playbook_id: int) -> PlaybookAnalytics:
    """Every metric on the playbook's closed trades (no initial capital: ratio metrics that
    need one are null with the reason), and per rule the trades that followed it against
    those that broke it."""
    if repository.get_playbook(session, user_id, playbook_id) is None:
        raise NotFound(f"playbook {playbook_id} not found")
    trades = trade_table(session, user_id, None, where=playbook_is(playbook_id))
    rules = []
    for rule in repository.rules(session, [playbook_id])[playbook_id]:
        followed = trade_table(session, user_id, None, where=rule_ticked(rule.id, True))
        broken = trade_table(session, user_id, None, where=rule_ticked(rule.id, False))
        rules.append(
            RuleAnalytics(
                rule_id=rule.id,
                text=rule.text,
                followed=outcome_summary(followed),
                broken=outcome_summary(broken),
            )  # fmt: skip
        )
    document = metrics_document(trades, None)
    confidence = document.pop("confidence", None)
    return PlaybookAnalytics(
        playbook_id=playbook_id,
        trades=len(trades),
        metrics=document,
        confidence=confidence,
        rules=rules,
    )
