from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, run_fk, user_fk, utcnow

Money = Numeric(24, 8)


class Trade(Base):
    """A round trip, flat to flat, per (run, account, symbol).

    `id` is the id of the trade's first fill, so it is stable across rebuilds and
    the notes, tags and setup a user wrote stay attached.
    """

    __tablename__ = "trade"
    __table_args__ = (
        Index(None, "run_id", "entry_ts"),
        Index(None, "run_id", "account", "symbol", "entry_ts"),
        Index(None, "run_id", "account", "symbol", "exit_ts"),  # what a rebuild replaces
        Index(None, "user_id", "symbol", "entry_ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    account: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    direction: Mapped[str] = mapped_column(String(5), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    max_position: Mapped[float] = mapped_column(Float, nullable=False)
    entry_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    exit_ts: Mapped[int | None] = mapped_column(BigInteger)
    entry_price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    exit_price: Mapped[Decimal | None] = mapped_column(Money)
    gross_pnl: Mapped[Decimal] = mapped_column(Money, nullable=False)
    commission: Mapped[Decimal] = mapped_column(Money, nullable=False)
    net_pnl: Mapped[Decimal] = mapped_column(Money, nullable=False)
    # the instrument multiplier the trade's money was derived with (currency per point)
    multiplier: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    mfe: Mapped[float | None] = mapped_column(Float)
    mae: Mapped[float | None] = mapped_column(Float)
    mfe_amount: Mapped[Decimal | None] = mapped_column(Money)
    mae_amount: Mapped[Decimal | None] = mapped_column(Money)
    exit_efficiency: Mapped[float | None] = mapped_column(Float)
    initial_risk: Mapped[Decimal | None] = mapped_column(Money)
    r_multiple: Mapped[float | None] = mapped_column(Float)
    regime_trend: Mapped[str | None] = mapped_column(String(16))
    regime_volatility: Mapped[str | None] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    setup: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TradeFill(Base):
    """The part of a fill that belongs to a trade (a fill crossing zero is split over two)."""

    __tablename__ = "trade_fill"
    __table_args__ = (Index(None, "execution_id"),)

    trade_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("trade.id", ondelete="CASCADE"), primary_key=True
    )
    execution_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("execution.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(5), nullable=False)
    qty: Mapped[float] = mapped_column(Float, nullable=False)
    commission: Mapped[Decimal] = mapped_column(Money, nullable=False)
