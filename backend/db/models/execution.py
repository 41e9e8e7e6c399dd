from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, id_column, run_fk, user_fk


class Execution(Base):
    """A fill. `id` grows with arrival, which orders fills with equal `ts`.

    An `amend` rewrites the row in place (keeping its arrival order); a `remove`
    (a bust) sets `removed_at` and keeps the row, so nothing sent is lost.
    """

    __tablename__ = "execution"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "exec_id"),
        Index(None, "run_id", "account", "symbol", "ts"),
        Index(None, "run_id", "ts"),
        Index(None, "user_id", "symbol", "ts"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    exec_id: Mapped[str] = mapped_column(String(200), nullable=False)
    order_id: Mapped[str | None] = mapped_column(String(200))
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    price: Mapped[float] = mapped_column(Float, nullable=False)
    commission: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    account: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    liquidity: Mapped[str | None] = mapped_column(String(16))
    amended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
