from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, id_column, run_fk, user_fk


class _Ohlcv:
    """A bar stamped with its open time (`ts`, UTC epoch ns)."""

    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Float, nullable=False)
    high: Mapped[float] = mapped_column(Float, nullable=False)
    low: Mapped[float] = mapped_column(Float, nullable=False)
    close: Mapped[float] = mapped_column(Float, nullable=False)
    volume: Mapped[float | None] = mapped_column(Float)
    bid_volume: Mapped[float | None] = mapped_column(Float)
    ask_volume: Mapped[float | None] = mapped_column(Float)


class MarketSeries(Base):
    """The market bars of one symbol at one timeframe (seconds), shared by a user's runs."""

    __tablename__ = "market_series"
    __table_args__ = (UniqueConstraint("user_id", "symbol", "timeframe_s"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    timeframe_s: Mapped[int] = mapped_column(Integer, nullable=False)


class MarketBar(_Ohlcv, Base):
    __tablename__ = "market_bar"

    series_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("market_series.id", ondelete="CASCADE"), primary_key=True
    )


class RunSeries(Base):
    """Bars a strategy produced itself (`series: run`), e.g. carrying its indicator values."""

    __tablename__ = "run_series"
    __table_args__ = (UniqueConstraint("run_id", "symbol", "timeframe_s"), Index(None, "user_id"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    timeframe_s: Mapped[int] = mapped_column(Integer, nullable=False)


class Bar(_Ohlcv, Base):
    """A bar of a RunSeries, with the strategy's named values."""

    __tablename__ = "bar"

    series_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("run_series.id", ondelete="CASCADE"), primary_key=True
    )
    values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
