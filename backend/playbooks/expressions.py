"""SQL expressions over `trade` for the journal: a trade's playbook, review state, mistakes.

A trade's playbook is the one assigned by hand (trade_journal.playbook_id) if any, else the
playbook whose `strategy` is the name of the trade's run's strategy; computed in queries,
never written at ingest (so it follows a playbook's strategy as soon as it is changed).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, not_, select

from backend.db.models import (
    Playbook,
    PlaybookRule,
    Strategy,
    StrategyRun,
    Trade,
    TradeJournal,
    TradeMistake,
    TradeRuleTick,
)


def manual_playbook() -> Any:
    """The playbook assigned to the trade by hand, or NULL."""
    return (
        select(TradeJournal.playbook_id)
        .where(TradeJournal.trade_id == Trade.id)
        .correlate(Trade)
        .scalar_subquery()
    )


def strategy_playbook() -> Any:
    """The playbook whose `strategy` is the trade's run's strategy, or NULL."""
    return (
        select(Playbook.id)
        .join(
            Strategy, and_(Strategy.name == Playbook.strategy, Strategy.user_id == Playbook.user_id)
        )
        .join(StrategyRun, StrategyRun.strategy_id == Strategy.id)
        .where(StrategyRun.id == Trade.run_id)
        .correlate(Trade)
        .scalar_subquery()
    )


def effective_playbook() -> Any:
    """The trade's playbook: by hand, else by its run's strategy; NULL for none."""
    return func.coalesce(manual_playbook(), strategy_playbook())


def playbook_name() -> Any:
    """The name of the trade's playbook, or NULL."""
    return (
        select(Playbook.name)
        .where(Playbook.id == effective_playbook())
        .correlate(Trade)
        .scalar_subquery()
    )


def is_reviewed() -> Any:
    return exists(
        select(1).where(TradeJournal.trade_id == Trade.id, TradeJournal.review_state == "reviewed")
    ).correlate(Trade)


def review_is(state: str) -> Any:
    """The trade's review state is `state` ("new": no journal row or one marked new)."""
    return is_reviewed() if state == "reviewed" else not_(is_reviewed())


def has_mistake(mistake_id: int) -> Any:
    return exists(
        select(1).where(TradeMistake.trade_id == Trade.id, TradeMistake.mistake_id == mistake_id)
    ).correlate(Trade)


def playbook_is(playbook: int | None) -> Any:
    """The trade's playbook is `playbook` (None: the trade has none)."""
    found = effective_playbook()
    return found.is_(None) if playbook is None else found == playbook


def rule_ticked(rule_id: int, followed: bool) -> Any:
    """The trade ticked `rule_id` followed (or broken) and the rule is its playbook's."""
    return exists(
        select(1)
        .select_from(TradeRuleTick)
        .join(PlaybookRule, PlaybookRule.id == TradeRuleTick.rule_id)
        .where(
            TradeRuleTick.trade_id == Trade.id,
            TradeRuleTick.rule_id == rule_id,
            TradeRuleTick.followed.is_(followed),
            PlaybookRule.playbook_id == effective_playbook(),
        )
    ).correlate(Trade)
