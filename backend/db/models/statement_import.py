"""Broker statement imports (backend/imports): the staged upload's record, and saved mappings.

The uploaded bytes live under the data directory (`imports/<user_id>/<id>.upload`) while
the import is `staged` or `running`; the file is removed when it is confirmed and done
(or failed), discarded, or left staged past the expiry. The record stays as history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, created_at_column, id_column, user_fk

IMPORT_STATES = ("staged", "running", "done", "failed")


class StatementImport(Base):
    __tablename__ = "statement_import"
    __table_args__ = (
        Index(None, "user_id", "id"),
        CheckConstraint("state IN ('staged', 'running', 'done', 'failed')", name="state"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    format: Mapped[str] = mapped_column(String(32), nullable=False)
    detected: Mapped[bool] = mapped_column(nullable=False, default=False)
    tz: Mapped[str | None] = mapped_column(String(64))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {columns, date_format}
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="staged")
    run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("strategy_run.id", ondelete="SET NULL"), index=True
    )
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = created_at_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ImportMapping(Base):
    """A user's saved generic-CSV mapping, by name."""

    __tablename__ = "import_mapping"
    __table_args__ = (Index(None, "user_id", "name", unique=True),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    columns: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False)
    tz: Mapped[str | None] = mapped_column(String(64))
    date_format: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = created_at_column()
