from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, created_at_column, id_column, user_fk, utcnow


class Backtest(Base):
    """A backtest launched from the dashboard, run by a worker process that pushes its run."""

    __tablename__ = "backtest"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    strategy: Mapped[str] = mapped_column(String(64), nullable=False)
    interval: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    data_source: Mapped[str] = mapped_column(String(16), nullable=False)  # upload or stored
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    api_key_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("api_key.id", ondelete="SET NULL")
    )
    run_key: Mapped[str] = mapped_column(String(128), nullable=False)
    run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("strategy_run.id", ondelete="SET NULL")
    )
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
