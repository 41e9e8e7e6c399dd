from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, id_column, user_fk, utcnow


class RejectedEvent(Base):
    """The dead-letter table: an event that failed validation, kept raw with its reason."""

    __tablename__ = "rejected_event"
    __table_args__ = (Index(None, "user_id", "received_at"), Index(None, "run_id"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int | None] = mapped_column(BigId)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    batch_index: Mapped[int] = mapped_column(Integer, nullable=False)
    event_id: Mapped[str | None] = mapped_column(String(200))
    event_type: Mapped[str | None] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    error: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
