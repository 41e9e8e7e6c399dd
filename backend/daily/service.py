"""The daily journal: one entry per day in the user's time zone, with the day's trades."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from backend.daily import repository
from backend.daily.days import day_bounds, local_days, parse_day
from backend.daily.schemas import (
    JournalDayRead,
    JournalDaySummary,
    JournalDayWrite,
    JournalTemplateRead,
    JournalTemplateWrite,
)
from backend.db.base import utcnow
from backend.db.models import JournalDay, JournalTemplate
from backend.errors import InvalidPayload
from backend.trades import service as trades
from backend.trades.repository import TradeFilter

MAX_RANGE_DAYS = 400
DAY_TRADES = 1000
_UNIT = 100_000_000


def _zone(timezone: str) -> ZoneInfo:
    return ZoneInfo(timezone or "UTC")


def day_of(field: str, text: str) -> dt.date:
    try:
        return parse_day(field, text)
    except ValueError as exc:
        raise InvalidPayload(str(exc)) from None


def list_days(
    session: Session, user_id: int, timezone: str, first_text: str, last_text: str
) -> list[JournalDaySummary]:
    """Days from `first` to `last` (inclusive) with an entry or trades entered on them."""
    first, last = day_of("from", first_text), day_of("to", last_text)
    if last < first:
        raise InvalidPayload(f"to: must not be before from, got from={first} to={last}")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidPayload(
            f"to: at most {MAX_RANGE_DAYS} days at once, got {(last - first).days + 1}"
        )
    zone = _zone(timezone)
    start, end = day_bounds(first, zone)[0], day_bounds(last, zone)[1]
    rows = repository.entered_between(session, user_id, start, end)
    counts: dict[dt.date, int] = defaultdict(int)
    net: dict[dt.date, int] = defaultdict(int)
    days = local_days(np.array([r[0] for r in rows], dtype=np.int64), zone)
    for day, (_ts, is_open, units) in zip(days, rows, strict=True):
        counts[day] += 1
        if not is_open:
            net[day] += int(units)
    entries = {e.day: e for e in repository.days_between(session, user_id, first, last)}
    return [
        JournalDaySummary(
            day=day.isoformat(), has_entry=day in entries,
            mood=entries[day].mood if day in entries else None,
            discipline=entries[day].discipline if day in entries else None,
            trades=counts.get(day, 0), net_pnl=net.get(day, 0) / _UNIT,
        )
        for day in sorted(set(counts) | set(entries))
    ]  # fmt: skip


def _template(session: Session, user_id: int) -> str:
    template = repository.get_template(session, user_id)
    return template.template if template is not None else ""


def _day_read(
    session: Session, user_id: int, timezone: str, day: dt.date, entry: JournalDay | None
) -> JournalDayRead:
    start, end = day_bounds(day, _zone(timezone))
    where = TradeFilter(user_id=user_id, start=start, end=end)
    page = trades.list_trade_items(session, where, sort="entry_ts", cursor=None, limit=DAY_TRADES)
    totals = trades.trade_totals(session, where)
    return JournalDayRead(
        day=day.isoformat(),
        plan=entry.plan if entry is not None else _template(session, user_id),
        review=entry.review if entry is not None else "",
        mood=entry.mood if entry is not None else None,
        discipline=entry.discipline if entry is not None else None,
        updated_at=entry.updated_at if entry is not None else None,
        exists=entry is not None,
        trades=page.items, trade_count=totals.trade_count, net_pnl=totals.net_pnl,
    )  # fmt: skip


def get_day(session: Session, user_id: int, timezone: str, day_text: str) -> JournalDayRead:
    day = day_of("day", day_text)
    return _day_read(session, user_id, timezone, day, repository.get_day(session, user_id, day))


def update_day(
    session: Session, user_id: int, timezone: str, day_text: str, data: JournalDayWrite
) -> JournalDayRead:
    """Write the day's entry (made on first write; its plan starts as the template)."""
    day = day_of("day", day_text)
    entry = repository.get_day(session, user_id, day)
    if entry is None:
        entry = JournalDay(user_id=user_id, day=day, plan=_template(session, user_id), review="")
        session.add(entry)
    given = data.model_fields_set
    for name in ("plan", "review"):
        if name in given:
            if getattr(data, name) is None:
                raise InvalidPayload(f"{name}: must be text, not null")
            setattr(entry, name, getattr(data, name))
    for name in ("mood", "discipline"):
        if name in given:
            setattr(entry, name, getattr(data, name))
    entry.updated_at = utcnow()
    session.flush()
    return _day_read(session, user_id, timezone, day, entry)


def delete_day(session: Session, user_id: int, day_text: str) -> bool:
    """Delete the day's entry; False when none is written."""
    entry = repository.get_day(session, user_id, day_of("day", day_text))
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    return True


def get_template(session: Session, user_id: int) -> JournalTemplateRead:
    return JournalTemplateRead(template=_template(session, user_id))


def update_template(
    session: Session, user_id: int, data: JournalTemplateWrite
) -> JournalTemplateRead:
    template = repository.get_template(session, user_id)
    if template is None:
        template = JournalTemplate(user_id=user_id, template=data.template)
        session.add(template)
    template.template, template.updated_at = data.template, utcnow()
    session.flush()
    return JournalTemplateRead(template=template.template)
