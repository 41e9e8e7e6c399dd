from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, String, UniqueConstraint
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


class Order(_OrderSnapshot, Base):
    """An order's current state: its latest event by (ts, arrival). History is in OrderEvent."""

    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("run_id", "order_id"),
        Index(None, "run_id", "symbol", "ts"),
        Index(None, "run_id", "ts"),
        Index(None, "user_id"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    created_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_event_id: Mapped[int] = mapped_column(BigId, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


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
