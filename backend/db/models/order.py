from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, id_column, run_fk, user_fk, utcnow


class _OrderSnapshot:
    """The order fields every `order` event carries (it is a full snapshot of the order)."""

    order_id: Mapped[str] = mapped_column(String(200), nullable=False)
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    side: Mapped[str] = mapped_column(String(4), nullable=False)
    order_type: Mapped[str] = mapped_column(String(16), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    tif: Mapped[str | None] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(200))
    filled_qty: Mapped[float | None] = mapped_column(Float)
    avg_fill_price: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(1000))


# Orders never finished: few, however long a run.
_WORKING = text("finished_ts IS NULL")


class Order(_OrderSnapshot, Base):
    """An order's current state: its latest event by (ts, arrival). History is in OrderEvent."""

    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("run_id", "order_id"),
        Index(None, "run_id", "symbol", "ts"),
        Index(None, "run_id", "ts"),
        Index(None, "user_id"),
        # What a rebuild reads for initial stops (trades/repository.py stop_orders).
        Index(None, "run_id", "parent_id"),
        Index(None, "run_id", "symbol", "finished_ts"),
        Index(
            "ix_order_working", "run_id", "symbol", sqlite_where=_WORKING, postgresql_where=_WORKING
        ),  # fmt: skip
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    created_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_event_id: Mapped[int] = mapped_column(BigId, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # From the whole history, for trade rebuilds: the first event with a finished status,
    # and the first stop price (a stop trailed later keeps its initial risk).
    finished_ts: Mapped[int | None] = mapped_column(BigInteger)
    first_stop_price: Mapped[float | None] = mapped_column(Float)


class OrderEvent(_OrderSnapshot, Base):
    """One status change of an order, as the exporter sent it; identity (user, source, event_id)."""

    __tablename__ = "order_event"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "event_id"),
        Index(None, "run_id", "order_id", "ts"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    event_id: Mapped[str] = mapped_column(String(200), nullable=False)
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
