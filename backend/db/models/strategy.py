from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, created_at_column, id_column, user_fk


class RunMode(enum.StrEnum):
    LIVE = "live"
    PAPER = "paper"
    BACKTEST = "backtest"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Strategy(Base):
    """A trading idea, named by the exporter; created on first sight."""

    __tablename__ = "strategy"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()


class StrategyInstance(Base):
    """One configuration of a strategy (symbol, timeframe, parameters) that runs over time."""

    __tablename__ = "strategy_instance"
    __table_args__ = (UniqueConstraint("strategy_id", "name"), Index(None, "user_id"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    strategy_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("strategy.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()


class StrategyRun(Base):
    """A stretch of trading (live, paper or a backtest) that events are pushed into.

    `key` is the exporter's name for the run, unique per (user, source).
    `started_ts`/`ended_ts` are market times (UTC epoch ns) from the events.
    """

    __tablename__ = "strategy_run"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "key"),
        Index(None, "user_id", "started_ts"),
        Index(None, "strategy_id"),
        Index(None, "instance_id"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    strategy_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("strategy.id", ondelete="CASCADE"), nullable=False
    )
    instance_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("strategy_instance.id", ondelete="SET NULL")
    )
    mode: Mapped[RunMode] = mapped_column(
        Enum(
            RunMode,
            native_enum=False,
            create_constraint=True,
            name="mode",
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
    )
    status: Mapped[RunStatus] = mapped_column(
        Enum(
            RunStatus,
            native_enum=False,
            create_constraint=True,
            name="status",
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=RunStatus.RUNNING,
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    initial_capital: Mapped[float | None] = mapped_column(Float)
    metrics_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metrics_version: Mapped[int | None] = mapped_column()
    started_ts: Mapped[int | None] = mapped_column(BigInteger)
    ended_ts: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = created_at_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
