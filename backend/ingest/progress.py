"""Where derivation stands: positions still pending, and those whose rebuild failed.

Trades are re-derived after a batch's response (backend/ingest/derivations.py).
This is what tells a client whether they are done: read from
`pending_derivation`, which holds a row per stale position until it is derived,
and keeps the reason when its rebuild failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from backend.db.models import PendingDerivation

DerivationStatus = Literal["derived", "pending", "failed"]


class FailedPosition(BaseModel):
    """A position whose trades could not be rebuilt; it is retried with back-off."""

    run_id: int
    symbol: str
    account: str
    error: str
    since: dt.datetime  # first failure of this streak
    attempts: int
    retry_at: dt.datetime | None  # next try (None: as soon as the worker gets to it)


class DerivationState(BaseModel):
    """`derived`: nothing is pending; `pending`: positions wait to be rebuilt (none failed);
    `failed`: some could not be rebuilt (see `failed_positions`)."""

    state: DerivationStatus
    pending_positions: int
    failed_positions: list[FailedPosition]


Position = tuple[int, str, str]  # (run_id, account, symbol)


def derivation_state(
    session: Session,
    user_id: int,
    *,
    run_id: int | None = None,
    positions: Iterable[Position] | None = None,
) -> DerivationState:
    """The state of a user's positions: all of them, one run's, or the given ones."""
    query = select(PendingDerivation).where(PendingDerivation.user_id == user_id)
    if run_id is not None:
        query = query.where(PendingDerivation.run_id == run_id)
    if positions is not None:
        keys = sorted(set(positions))
        if not keys:
            return DerivationState(state="derived", pending_positions=0, failed_positions=[])
        column = tuple_(PendingDerivation.run_id, PendingDerivation.account,
                        PendingDerivation.symbol)  # fmt: skip
        query = query.where(or_(*(column == key for key in keys)) if len(keys) < 50
                            else column.in_(keys))  # fmt: skip
    rows = session.execute(query.order_by(PendingDerivation.id)).scalars().all()
    failed = [
        FailedPosition(
            run_id=row.run_id,
            symbol=row.symbol,
            account=row.account,
            error=row.error,
            since=row.failed_at or row.created_at,
            attempts=row.attempts,
            retry_at=row.retry_at,
        )
        for row in rows
        if row.error is not None
    ]
    pending = len(rows) - len(failed)
    state: DerivationStatus = "failed" if failed else "pending" if pending else "derived"
    return DerivationState(state=state, pending_positions=pending, failed_positions=failed)
