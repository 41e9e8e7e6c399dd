from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, id_column, run_fk, user_fk, utcnow


class PendingDerivation(Base):
    """A position whose derived data (trades) is stale since `from_ts`.

    Written in the same transaction as the fills that made it stale and deleted
    once derived, so a crash between the two only delays the work: start-up
    finishes whatever is still here. A position whose rebuild fails stays here,
    marked with the reason (`error`), and is retried with back-off.
    """

    __tablename__ = "pending_derivation"
    __table_args__ = (UniqueConstraint("run_id", "account", "symbol"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    account: Mapped[str] = mapped_column(String(100), nullable=False)
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    from_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # A rebuild that raised: how often in a row, why (the last time), since when, and when
    # to try again (back-off). New fills of the position clear `retry_at`: retry at once.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A runner derives from a read snapshot and writes after: `claimed_at` says it took the
    # row (others leave it until the claim is stale); new data meanwhile sets `touched_from`
    # (the earliest time it changed), which the runner folds into `from_ts` when it writes.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    touched_from: Mapped[int | None] = mapped_column(BigInteger)
