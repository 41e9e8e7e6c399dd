"""Every query of the playbooks feature (playbooks, rules, mistakes, trade journals)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.db.models import (
    Mistake,
    Playbook,
    PlaybookRule,
    Trade,
    TradeJournal,
    TradeMistake,
    TradeRuleTick,
)
from backend.playbooks.expressions import effective_playbook, manual_playbook

_IN_CHUNK = 5000


def playbooks(session: Session, user_id: int) -> Sequence[Playbook]:
    query = select(Playbook).where(Playbook.user_id == user_id).order_by(Playbook.name)
    return session.scalars(query).all()


def get_playbook(session: Session, user_id: int, playbook_id: int) -> Playbook | None:
    query = select(Playbook).where(Playbook.id == playbook_id, Playbook.user_id == user_id)
    return session.scalars(query).one_or_none()


def playbook_named(
    session: Session, user_id: int, *, name: str | None = None, strategy: str | None = None
) -> Playbook | None:
    query = select(Playbook).where(Playbook.user_id == user_id)
    if name is not None:
        query = query.where(Playbook.name == name)
    if strategy is not None:
        query = query.where(Playbook.strategy == strategy)
    return session.scalars(query).first()


def rules(session: Session, playbook_ids: Sequence[int]) -> dict[int, list[PlaybookRule]]:
    """The rules of each playbook, in order."""
    found: dict[int, list[PlaybookRule]] = defaultdict(list)
    if playbook_ids:
        query = (
            select(PlaybookRule)
            .where(PlaybookRule.playbook_id.in_(playbook_ids))
            .order_by(PlaybookRule.playbook_id, PlaybookRule.position, PlaybookRule.id)
        )
        for rule in session.scalars(query):
            found[rule.playbook_id].append(rule)
    return found


def trade_counts(session: Session, user_id: int) -> dict[int, int]:
    """Trades per playbook (by hand or by strategy), of the user's trades that exist."""
    assigned = (
        select(effective_playbook().label("playbook_id")).where(Trade.user_id == user_id).subquery()
    )
    query = (
        select(assigned.c.playbook_id, func.count())
        .where(assigned.c.playbook_id.is_not(None))
        .group_by(assigned.c.playbook_id)
    )
    return {int(pid): int(n) for pid, n in session.execute(query)}


def playbook_ticks(
    session: Session, user_id: int, playbook_id: int | None = None
) -> list[tuple[int, int, bool]]:
    """(playbook id, trade id, followed) of every tick on a rule of the trade's own playbook."""
    query = (
        select(PlaybookRule.playbook_id, Trade.id, TradeRuleTick.followed)
        .select_from(Trade)
        .join(TradeRuleTick, TradeRuleTick.trade_id == Trade.id)
        .join(PlaybookRule, PlaybookRule.id == TradeRuleTick.rule_id)
        .where(Trade.user_id == user_id, PlaybookRule.playbook_id == effective_playbook())
    )
    if playbook_id is not None:
        query = query.where(PlaybookRule.playbook_id == playbook_id)
    return [(int(p), int(t), bool(f)) for p, t, f in session.execute(query)]


def mistakes(session: Session, user_id: int) -> Sequence[Mistake]:
    query = select(Mistake).where(Mistake.user_id == user_id).order_by(Mistake.name)
    return session.scalars(query).all()


def get_mistake(session: Session, user_id: int, mistake_id: int) -> Mistake | None:
    query = select(Mistake).where(Mistake.id == mistake_id, Mistake.user_id == user_id)
    return session.scalars(query).one_or_none()


def mistake_named(session: Session, user_id: int, name: str) -> Mistake | None:
    query = select(Mistake).where(Mistake.user_id == user_id, Mistake.name == name)
    return session.scalars(query).first()


def mistake_counts(session: Session, user_id: int) -> dict[int, int]:
    """Trades (that exist) per mistake of the user."""
    query = (
        select(TradeMistake.mistake_id, func.count())
        .join(Mistake, Mistake.id == TradeMistake.mistake_id)
        .join(Trade, Trade.id == TradeMistake.trade_id)
        .where(Mistake.user_id == user_id, Trade.user_id == user_id)
        .group_by(TradeMistake.mistake_id)
    )
    return {int(mid): int(n) for mid, n in session.execute(query)}


def get_journal(session: Session, trade_id: int) -> TradeJournal | None:
    return session.get(TradeJournal, trade_id)


def trade_playbooks(session: Session, trade_ids: Sequence[int]) -> dict[int, tuple[Any, Any]]:
    """(effective playbook id, hand-assigned playbook id) of each trade."""
    found: dict[int, tuple[Any, Any]] = {}
    for start in range(0, len(trade_ids), _IN_CHUNK):
        chunk = trade_ids[start : start + _IN_CHUNK]
        query = select(Trade.id, effective_playbook(), manual_playbook()).where(Trade.id.in_(chunk))
        found.update((int(t), (e, m)) for t, e, m in session.execute(query))
    return found


def review_states(session: Session, trade_ids: Sequence[int]) -> dict[int, str]:
    """The review state of the trades that have a journal row."""
    found: dict[int, str] = {}
    for start in range(0, len(trade_ids), _IN_CHUNK):
        chunk = trade_ids[start : start + _IN_CHUNK]
        query = select(TradeJournal.trade_id, TradeJournal.review_state).where(
            TradeJournal.trade_id.in_(chunk)
        )
        found.update((int(t), str(s)) for t, s in session.execute(query))
    return found


def trade_mistakes(session: Session, trade_ids: Sequence[int]) -> dict[int, list[Mistake]]:
    """The mistakes of each trade, by name."""
    found: dict[int, list[Mistake]] = defaultdict(list)
    for start in range(0, len(trade_ids), _IN_CHUNK):
        chunk = trade_ids[start : start + _IN_CHUNK]
        query = (
            select(TradeMistake.trade_id, Mistake)
            .join(Mistake, Mistake.id == TradeMistake.mistake_id)
            .where(TradeMistake.trade_id.in_(chunk))
            .order_by(Mistake.name)
        )
        for trade_id, mistake in session.execute(query):
            found[int(trade_id)].append(mistake)
    return found


def mistake_names(session: Session, user_id: int) -> dict[int, tuple[str, ...]]:
    """The names of the mistake tags of each of the user's tagged trades, sorted."""
    query = (
        select(TradeMistake.trade_id, Mistake.name)
        .join(Mistake, Mistake.id == TradeMistake.mistake_id)
        .where(Mistake.user_id == user_id)
        .order_by(TradeMistake.trade_id, Mistake.name)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for trade_id, name in session.execute(query):
        found[int(trade_id)].append(str(name))
    return {trade_id: tuple(names) for trade_id, names in found.items()}


def trade_ticks(session: Session, trade_id: int) -> dict[int, bool]:
    query = select(TradeRuleTick.rule_id, TradeRuleTick.followed).where(
        TradeRuleTick.trade_id == trade_id
    )
    return {int(r): bool(f) for r, f in session.execute(query)}


def drop_ticks_outside(session: Session, trade_id: int, playbook_id: int | None) -> None:
    """Delete the trade's ticks on rules that are not `playbook_id`'s."""
    query = delete(TradeRuleTick).where(TradeRuleTick.trade_id == trade_id)
    if playbook_id is not None:
        kept = select(PlaybookRule.id).where(PlaybookRule.playbook_id == playbook_id)
        query = query.where(TradeRuleTick.rule_id.not_in(kept))
    session.execute(query)


def set_mistakes(session: Session, trade_id: int, mistake_ids: Sequence[int]) -> None:
    session.execute(delete(TradeMistake).where(TradeMistake.trade_id == trade_id))
    session.add_all(TradeMistake(trade_id=trade_id, mistake_id=m) for m in mistake_ids)


def set_tick(session: Session, trade_id: int, rule_id: int, followed: bool | None) -> None:
    tick = session.get(TradeRuleTick, (trade_id, rule_id))
    if followed is None:
        if tick is not None:
            session.delete(tick)
    elif tick is None:
        session.add(TradeRuleTick(trade_id=trade_id, rule_id=rule_id, followed=followed))
    else:
        tick.followed = followed
