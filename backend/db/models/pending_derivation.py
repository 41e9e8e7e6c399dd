from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, id_column, run_fk, user_fk, utcnow


class PendingDerivation(Base):
    """A position whose derived data (trades) is stale since `from_ts`.

    Written in the same transaction as the fills that made it stale and deleted
    once derived, so a crash between the two only delays the work: start-up
    finishes whatever is still here.
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
