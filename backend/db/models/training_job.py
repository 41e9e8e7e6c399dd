from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, created_at_column, id_column, run_fk, user_fk, utcnow


class TrainingJob(Base):
    """A training request sent to the training node, tracked by its job id there."""

    __tablename__ = "training_job"
    __table_args__ = (Index(None, "user_id", "created_at"), Index(None, "run_id"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    node_job_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
