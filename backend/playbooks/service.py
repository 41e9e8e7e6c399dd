"""Playbooks, mistakes and a trade's journal, always scoped to the caller's user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from backend.db.base import utcnow
from backend.db.models import Mistake, Playbook, PlaybookRule, Trade, TradeJournal
from backend.errors import Conflict, InvalidPayload, NotFound
from backend.playbooks import repository
from backend.playbooks.adherence import playbook_adherence, trade_adherence
from backend.playbooks.schemas import (
    MistakeRead,
    MistakeRef,
    MistakeWrite,
    PlaybookRead,
    PlaybookUpdate,
    PlaybookWrite,
    RuleRead,
    RuleTickRead,
    RuleWrite,
    TradeJournalRead,
    TradeJournalWrite,
)
from backend.trades import repository as trades

# -- playbooks --------------------------------------------------------------------------


def _playbook_reads(
    session: Session, user_id: int, items: Sequence[Playbook]
) -> list[PlaybookRead]:
    rules = repository.rules(session, [p.id for p in items])
    counts = repository.trade_counts(session, user_id)
    adherence = playbook_adherence(repository.playbook_ticks(session, user_id))
    return [
        PlaybookRead(
            id=p.id, name=p.name, description=p.description, conditions=p.conditions,
            strategy=p.strategy,
            rules=[RuleRead(id=r.id, text=r.text, position=r.position) for r in rules[p.id]],
            trades=counts.get(p.id, 0), adherence=adherence.get(p.id),
            created_at=p.created_at, updated_at=p.updated_at,
        )
        for p in items
    ]  # fmt: skip


def list_playbooks(session: Session, user_id: int) -> list[PlaybookRead]:
    return _playbook_reads(session, user_id, repository.playbooks(session, user_id))


def _owned_playbook(session: Session, user_id: int, playbook_id: int) -> Playbook:
    playbook = repository.get_playbook(session, user_id, playbook_id)
    if playbook is None:
        raise NotFound(f"playbook {playbook_id} not found")
    return playbook


def get_playbook(session: Session, user_id: int, playbook_id: int) -> PlaybookRead:
    return _playbook_reads(session, user_id, [_owned_playbook(session, user_id, playbook_id)])[0]


def _check_unique(
    session: Session, user_id: int, playbook_id: int | None, name: str | None, strategy: str | None
) -> None:
    if name is not None:
        other = repository.playbook_named(session, user_id, name=name)
        if other is not None and other.id != playbook_id:
            raise Conflict(f"name: a playbook named {name!r} exists already (id {other.id})")
    if strategy is not None:
        other = repository.playbook_named(session, user_id, strategy=strategy)
        if other is not None and other.id != playbook_id:
            raise Conflict(
                f"strategy: playbook {other.name!r} (id {other.id}) is already the default "
                f"of strategy {strategy!r}"
            )


def _set_rules(session: Session, playbook: Playbook, items: Sequence[RuleWrite]) -> None:
    """The checklist becomes `items`: ids kept, new ones added, missing ones deleted."""
    existing = {r.id: r for r in repository.rules(session, [playbook.id])[playbook.id]}
    kept: set[int] = set()
    for item in items:
        if item.id is not None and (item.id not in existing or item.id in kept):
            raise InvalidPayload(
                f"rules: rule id {item.id} is not a rule of playbook {playbook.id}"
                if item.id not in existing
                else f"rules: rule id {item.id} given twice"
            )
        if item.id is not None:
            kept.add(item.id)
    for rule_id, rule in existing.items():
        if rule_id not in kept:
            session.delete(rule)  # its ticks go with it (ON DELETE CASCADE)
    session.flush()
    for position, item in enumerate(items):
        if item.id is not None:
            existing[item.id].text, existing[item.id].position = item.text, position
        else:
            session.add(PlaybookRule(playbook_id=playbook.id, text=item.text, position=position))


def create_playbook(session: Session, user_id: int, data: PlaybookWrite) -> PlaybookRead:
    _check_unique(session, user_id, None, data.name, data.strategy)
    if any(r.id is not None for r in data.rules):
        raise InvalidPayload("rules: a new playbook's rules cannot carry an id")
    playbook = Playbook(
        user_id=user_id, name=data.name, description=data.description,
        conditions=data.conditions, strategy=data.strategy,
    )  # fmt: skip
    session.add(playbook)
    session.flush()
    _set_rules(session, playbook, data.rules)
    session.flush()
    return get_playbook(session, user_id, playbook.id)


def update_playbook(
    session: Session, user_id: int, playbook_id: int, data: PlaybookUpdate
) -> PlaybookRead:
    playbook = _owned_playbook(session, user_id, playbook_id)
    given = data.model_fields_set
    for name in ("name", "description", "conditions"):
        if name in given and getattr(data, name) is None:
            raise InvalidPayload(f"{name}: must not be null")
    if "rules" in given and data.rules is None:
        raise InvalidPayload("rules: must be a list (an empty one clears the checklist)")
    _check_unique(
        session, user_id, playbook.id, data.name if "name" in given else None,
        data.strategy if "strategy" in given else None,
    )  # fmt: skip
    for name in ("name", "description", "conditions", "strategy"):
        if name in given:
            setattr(playbook, name, getattr(data, name))
    if data.rules is not None:
        _set_rules(session, playbook, data.rules)
    playbook.updated_at = utcnow()
    session.flush()
    return get_playbook(session, user_id, playbook.id)


def delete_playbook(session: Session, user_id: int, playbook_id: int) -> None:
    """Its rules and their ticks go with it; trades assigned to it become unassigned."""
    session.delete(_owned_playbook(session, user_id, playbook_id))
    session.flush()


# -- mistakes ---------------------------------------------------------------------------


def list_mistakes(session: Session, user_id: int) -> list[MistakeRead]:
    counts = repository.mistake_counts(session, user_id)
    return [
        MistakeRead(id=m.id, name=m.name, trades=counts.get(m.id, 0))
        for m in repository.mistakes(session, user_id)
    ]


def _owned_mistake(session: Session, user_id: int, mistake_id: int) -> Mistake:
    mistake = repository.get_mistake(session, user_id, mistake_id)
    if mistake is None:
        raise NotFound(f"mistake {mistake_id} not found")
    return mistake


def _mistake_read(session: Session, user_id: int, mistake: Mistake) -> MistakeRead:
    counts = repository.mistake_counts(session, user_id)
    return MistakeRead(id=mistake.id, name=mistake.name, trades=counts.get(mistake.id, 0))


def _check_mistake_name(session: Session, user_id: int, name: str, mistake_id: int | None) -> None:
    other = repository.mistake_named(session, user_id, name)
    if other is not None and other.id != mistake_id:
        raise Conflict(f"name: a mistake named {name!r} exists already (id {other.id})")


def create_mistake(session: Session, user_id: int, data: MistakeWrite) -> MistakeRead:
    _check_mistake_name(session, user_id, data.name, None)
    mistake = Mistake(user_id=user_id, name=data.name)
    session.add(mistake)
    session.flush()
    return _mistake_read(session, user_id, mistake)


def update_mistake(
    session: Session, user_id: int, mistake_id: int, data: MistakeWrite
) -> MistakeRead:
    mistake = _owned_mistake(session, user_id, mistake_id)
    _check_mistake_name(session, user_id, data.name, mistake.id)
    mistake.name = data.name
    session.flush()
    return _mistake_read(session, user_id, mistake)


def delete_mistake(session: Session, user_id: int, mistake_id: int) -> None:
    """Untags every trade tagged with it."""
    session.delete(_owned_mistake(session, user_id, mistake_id))
    session.flush()


# -- a trade's journal ------------------------------------------------------------------


def _owned_trade(session: Session, user_id: int, trade_id: int) -> Trade:
    trade = trades.get_trade(session, user_id, trade_id)
    if trade is None:
        raise NotFound(f"trade {trade_id} not found")
    return trade


def trade_journal(session: Session, trade: Trade) -> TradeJournalRead:
    """The journal of a trade the caller owns."""
    effective, manual = repository.trade_playbooks(session, [trade.id]).get(trade.id, (None, None))
    journal = repository.get_journal(session, trade.id)
    ticks = repository.trade_ticks(session, trade.id)
    rules = repository.rules(session, [effective])[effective] if effective is not None else []
    ticked = [RuleTickRead(rule_id=r.id, text=r.text, followed=ticks.get(r.id)) for r in rules]
    source = None if effective is None else "manual" if manual is not None else "strategy"
    return TradeJournalRead(
        playbook_id=effective, playbook_source=source,
        review_state="reviewed" if journal and journal.review_state == "reviewed" else "new",
        reviewed_at=journal.reviewed_at if journal else None,
        mistakes=[
            MistakeRef(id=m.id, name=m.name)
            for m in repository.trade_mistakes(session, [trade.id])[trade.id]
        ],
        rules=ticked,
        adherence=trade_adherence(t.followed for t in ticked if t.followed is not None),
    )  # fmt: skip


def get_trade_journal(session: Session, user_id: int, trade_id: int) -> TradeJournalRead:
    return trade_journal(session, _owned_trade(session, user_id, trade_id))


def update_trade_journal(
    session: Session, user_id: int, trade_id: int, data: TradeJournalWrite, now: dt.datetime
) -> TradeJournalRead:
    trade = _owned_trade(session, user_id, trade_id)
    journal = repository.get_journal(session, trade.id)
    if journal is None:
        journal = TradeJournal(trade_id=trade.id, user_id=user_id, run_id=trade.run_id)
        session.add(journal)
    given = data.model_fields_set
    if "playbook_id" in given:
        if data.playbook_id is not None:
            _playbook_ref(session, user_id, data.playbook_id)
        journal.playbook_id = data.playbook_id
    if data.review_state is not None and data.review_state != journal.review_state:
        journal.review_state = data.review_state
        journal.reviewed_at = now if data.review_state == "reviewed" else None
    journal.updated_at = now
    session.flush()
    effective = repository.trade_playbooks(session, [trade.id])[trade.id][0]
    if "playbook_id" in given:  # ticks of another playbook's rules mean nothing now
        repository.drop_ticks_outside(session, trade.id, effective)
    if data.mistake_ids is not None:
        ids = list(dict.fromkeys(data.mistake_ids))
        owned = {m.id for m in repository.mistakes(session, user_id)}
        unknown = [m for m in ids if m not in owned]
        if unknown:
            raise InvalidPayload(f"mistake_ids: mistake {unknown[0]} not found")
        repository.set_mistakes(session, trade.id, ids)
    if data.rules:
        allowed = (
            {r.id for r in repository.rules(session, [effective])[effective]}
            if effective is not None
            else set()
        )
        for tick in data.rules:
            if tick.rule_id not in allowed:
                raise InvalidPayload(
                    f"rules: rule {tick.rule_id} is not a rule of the trade's playbook"
                    + (f" ({effective})" if effective is not None else " (it has none)")
                )
        for tick in data.rules:
            repository.set_tick(session, trade.id, tick.rule_id, tick.followed)
    session.flush()
    return trade_journal(session, trade)


def _playbook_ref(session: Session, user_id: int, playbook_id: int) -> Playbook:
    playbook = repository.get_playbook(session, user_id, playbook_id)
    if playbook is None:
        raise InvalidPayload(f"playbook_id: playbook {playbook_id} not found")
    return playbook
