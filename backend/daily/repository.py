"""Every query of the daily journal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from backend.db.models import JournalDay, JournalTemplate, Trade


def get_day(session: Session, user_id: int, day: dt.date) -> JournalDay | None:
    query = select(JournalDay).where(JournalDay.user_id == user_id, JournalDay.day == day)
    return session.scalars(query).one_or_none()


def days_between(
    session: Session, user_id: int, first: dt.date, last: dt.date
) -> Sequence[JournalDay]:
    query = (
        select(JournalDay)
        .where(JournalDay.user_id == user_id, JournalDay.day >= first, JournalDay.day <= last)
        .order_by(JournalDay.day)
    )
    return session.scalars(query).all()


def entered_between(session: Session, user_id: int, start: int, end: int) -> Sequence[Any]:
    """(entry_ts, is_open, net P&L in 1e-8 units) of the trades entered in [start, end)."""
    query = select(
        Trade.entry_ts, Trade.is_open, cast(func.round(Trade.net_pnl * 100_000_000), BigInteger)
    ).where(Trade.user_id == user_id, Trade.entry_ts >= start, Trade.entry_ts < end)
    return session.execute(query).all()


def get_template(session: Session, user_id: int) -> JournalTemplate | None:
    return session.get(JournalTemplate, user_id)
