from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import (
    Base,
    BigId,
    UTCDateTime,
    created_at_column,
    id_column,
    run_fk,
    user_fk,
    utcnow,
)


class TrainingJob(Base):
    """A training request sent to the training node, tracked by its job id there.

    `status` is the node's (`queued`, `running`, `succeeded`, `failed`,
    `cancelled`), or `pending_submit` while the node could not be reached: such
    a job is submitted when the node is back. `submitting` marks the one caller
    (thread or worker process) that claimed a pending job and is sending it; a
    claim older than the service's lease is taken over (the sender died).
    `trigger` is `manual` or `auto` (started when its run ended). `result` holds
    the node's learning curve, evaluation report and ready artifacts.
    """

    __tablename__ = "training_job"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "run_id"),
        Index(None, "status"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    node_job_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    trigger: Mapped[str] = mapped_column(
        String(16), nullable=False, default="manual", server_default="manual"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AutoTraining(Base):
    """Per strategy instance: train automatically when one of its runs ends, with `config`."""

    __tablename__ = "auto_training"
    __table_args__ = (Index(None, "user_id"),)

    instance_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("strategy_instance.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = user_fk()
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
