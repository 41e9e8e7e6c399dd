"""The journal a trader wrote (playbooks, mistakes, trade reviews, days, the template) in
the journal export, and applied again on import (backend/journal/export.py, importer.py).

Records are keyed by what survives a move to another user or server: playbooks and
mistakes by name, a rule by its playbook's name and its position in the checklist, a
trade by the source and exec id of its first fill (as a trade's notes are), a day by
its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.daily.days import FIRST_DAY, LAST_DAY
from backend.db.base import utcnow
from backend.db.models import (
    Execution,
    JournalDay,
    JournalTemplate,
    Mistake,
    Playbook,
    PlaybookRule,
    StrategyRun,
    Trade,
    TradeJournal,
    TradeRuleTick,
)
from backend.playbooks import repository

KINDS = ("playbook", "mistake", "trade_journal", "journal_day", "journal_template")


class PlaybookRecord(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=10_000)
    conditions: str = Field(default="", max_length=2000)
    strategy: str | None = Field(default=None, min_length=1, max_length=200)
    rules: list[str] = Field(default_factory=list, max_length=50)


class MistakeRecord(BaseModel):
    name: str = Field(min_length=1, max_length=60)


class TickRecord(BaseModel):
    playbook: str
    rule: int = Field(ge=0, description="the rule's position in its playbook's checklist")
    followed: bool


class TradeJournalRecord(BaseModel):
    source: str
    run_key: str
    first_exec_id: str
    playbook: str | None = Field(default=None, description="assigned by hand; by name")
    review_state: Literal["new", "reviewed"] = "new"
    reviewed_at: AwareDatetime | None = None
    mistakes: list[str] = Field(default_factory=list, max_length=100)
    ticks: list[TickRecord] = Field(default_factory=list, max_length=500)


class DayRecord(BaseModel):
    day: dt.date
    plan: str = Field(default="", max_length=20_000)
    review: str = Field(default="", max_length=20_000)
    mood: int | None = Field(default=None, ge=1, le=5)
    discipline: int | None = Field(default=None, ge=1, le=5)

    @field_validator("day")
    @classmethod
    def _day(cls, day: dt.date) -> dt.date:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"must be from {FIRST_DAY} to {LAST_DAY}, got {day}")
        return day


class TemplateRecord(BaseModel):
    template: str = Field(max_length=20_000)


@dataclass
class JournalRecords:
    playbooks: list[PlaybookRecord] = field(default_factory=list)
    mistakes: list[MistakeRecord] = field(default_factory=list)
    trades: list[TradeJournalRecord] = field(default_factory=list)
    days: list[DayRecord] = field(default_factory=list)
    template: TemplateRecord | None = None

    def add(self, kind: str, record: dict[str, Any]) -> None:
        """Check and keep one exported record (ValidationError for a bad one)."""
        if kind == "playbook":
            self.playbooks.append(PlaybookRecord.model_validate(record))
        elif kind == "mistake":
            self.mistakes.append(MistakeRecord.model_validate(record))
        elif kind == "trade_journal":
            self.trades.append(TradeJournalRecord.model_validate(record))
        elif kind == "journal_day":
            self.days.append(DayRecord.model_validate(record))
        else:
            self.template = TemplateRecord.model_validate(record)


def export_records(session: Session, user_id: int) -> Iterator[dict[str, Any]]:
    """The user's playbooks, mistakes, trade reviews, days and template as export records."""
    books = repository.playbooks(session, user_id)
    rules = repository.rules(session, [p.id for p in books])
    where_rule: dict[int, tuple[str, int]] = {}
    for p in books:
        yield {"kind": "playbook", "name": p.name, "description": p.description,
               "conditions": p.conditions, "strategy": p.strategy,
               "rules": [r.text for r in rules[p.id]]}  # fmt: skip
        where_rule.update((r.id, (p.name, i)) for i, r in enumerate(rules[p.id]))
    names = {p.id: p.name for p in books}
    for m in repository.mistakes(session, user_id):
        yield {"kind": "mistake", "name": m.name}
    journals = session.execute(
        select(TradeJournal, Execution.source, Execution.exec_id, StrategyRun.key)
        .join(Execution, Execution.id == TradeJournal.trade_id)  # a trade's id: its first fill's
        .join(StrategyRun, StrategyRun.id == TradeJournal.run_id)
        .where(TradeJournal.user_id == user_id)
        .order_by(TradeJournal.trade_id)
    ).all()
    ids = [j.trade_id for j, _s, _e, _k in journals]
    mistakes = repository.trade_mistakes(session, ids)
    for journal, source, exec_id, run_key in journals:
        ticks = repository.trade_ticks(session, journal.trade_id)
        yield {
            "kind": "trade_journal", "source": source, "run_key": run_key,
            "first_exec_id": exec_id,
            "playbook": names.get(journal.playbook_id) if journal.playbook_id else None,
            "review_state": journal.review_state,
            "reviewed_at": journal.reviewed_at.isoformat() if journal.reviewed_at else None,
            "mistakes": [m.name for m in mistakes.get(journal.trade_id, [])],
            "ticks": [{"playbook": where_rule[r][0], "rule": where_rule[r][1], "followed": f}
                      for r, f in sorted(ticks.items()) if r in where_rule],
        }  # fmt: skip
    days = select(JournalDay).where(JournalDay.user_id == user_id).order_by(JournalDay.day)
    for day in session.scalars(days):
        yield {"kind": "journal_day", "day": day.day.isoformat(), "plan": day.plan,
               "review": day.review, "mood": day.mood, "discipline": day.discipline}  # fmt: skip
    template = repository_template(session, user_id)
    if template is not None:
        yield {"kind": "journal_template", "template": template.template}


def repository_template(session: Session, user_id: int) -> JournalTemplate | None:
    return session.get(JournalTemplate, user_id)


def apply(session: Session, user_id: int, records: JournalRecords) -> int:
    """Apply imported records to `user_id` (whose trades are derived by now): playbooks and
    mistakes the user has by name are kept as they are, the rest made; a review goes on the
    trade whose first fill has the record's exec id; days and the template are written.
    Returns how many records were applied."""
    applied = 0
    books = {p.name: p for p in repository.playbooks(session, user_id)}
    strategies = {p.strategy for p in books.values() if p.strategy is not None}
    for item in records.playbooks:
        if item.name in books:
            continue
        strategy = item.strategy if item.strategy not in strategies else None
        playbook = Playbook(user_id=user_id, name=item.name, description=item.description,
                            conditions=item.conditions, strategy=strategy)  # fmt: skip
        session.add(playbook)
        session.flush()
        session.add_all(
            PlaybookRule(playbook_id=playbook.id, text=text, position=i)
            for i, text in enumerate(item.rules)
        )
        books[item.name] = playbook
        if strategy is not None:
            strategies.add(strategy)
        applied += 1
    session.flush()
    rules = repository.rules(session, [p.id for p in books.values()])
    rule_at = {(name, i): r.id for name, p in books.items() for i, r in enumerate(rules[p.id])}
    mistakes = {m.name: m.id for m in repository.mistakes(session, user_id)}
    for tag in records.mistakes:
        if tag.name not in mistakes:
            mistake = Mistake(user_id=user_id, name=tag.name)
            session.add(mistake)
            session.flush()
            mistakes[tag.name] = mistake.id
            applied += 1
    for record in records.trades:
        applied += _apply_trade(session, user_id, record, books, rule_at, mistakes)
    for day in records.days:
        entry = session.scalars(
            select(JournalDay).where(JournalDay.user_id == user_id, JournalDay.day == day.day)
        ).one_or_none()
        if entry is None:
            entry = JournalDay(user_id=user_id, day=day.day)
            session.add(entry)
        entry.plan, entry.review, entry.mood, entry.discipline = (
            day.plan, day.review, day.mood, day.discipline,
        )  # fmt: skip
        entry.updated_at = utcnow()
        applied += 1
    if records.template is not None:
        template = repository_template(session, user_id)
        if template is None:
            template = JournalTemplate(user_id=user_id, template=records.template.template)
            session.add(template)
        template.template, template.updated_at = records.template.template, utcnow()
        applied += 1
    session.flush()
    return applied


def _apply_trade(
    session: Session,
    user_id: int,
    record: TradeJournalRecord,
    books: dict[str, Playbook],
    rule_at: dict[tuple[str, int], int],
    mistakes: dict[str, int],
) -> int:
    found = session.execute(
        select(Trade.id, Trade.run_id)
        .join(Execution, Execution.id == Trade.id)
        .where(
            Execution.user_id == user_id,
            Execution.source == record.source,
            Execution.exec_id == record.first_exec_id,
            Trade.user_id == user_id,
        )  # fmt: skip
    ).first()
    if found is None:
        return 0
    trade_id, run_id = int(found[0]), int(found[1])
    journal = session.get(TradeJournal, trade_id)
    if journal is None:
        journal = TradeJournal(trade_id=trade_id, user_id=user_id, run_id=run_id)
        session.add(journal)
    journal.playbook_id = books[record.playbook].id if record.playbook in books else None
    journal.review_state, journal.reviewed_at = record.review_state, record.reviewed_at
    journal.updated_at = utcnow()
    session.flush()
    repository.set_mistakes(
        session,
        trade_id,
        list(dict.fromkeys(mistakes[m] for m in record.mistakes if m in mistakes)),
    )
    session.execute(delete(TradeRuleTick).where(TradeRuleTick.trade_id == trade_id))
    for tick in record.ticks:
        rule_id = rule_at.get((tick.playbook, tick.rule))
        if rule_id is not None:
            session.add(TradeRuleTick(trade_id=trade_id, rule_id=rule_id, followed=tick.followed))
    session.flush()
    return 1
