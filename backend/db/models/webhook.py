from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, created_at_column, id_column, user_fk, utcnow


class WebhookEndpoint(Base):
    """An HTTPS address a user has Fillbook POST events to (backend/webhooks, docs/webhooks.md).

    `secret_sealed` is the signing secret encrypted with AES-256-GCM under a key derived from
    the server's SECRET_KEY (backend/webhooks/secrets.py): it is needed in clear to sign, so it
    cannot be hashed like an API key, and it is never returned after it is created or rotated.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    events: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    secret_sealed: Mapped[str] = mapped_column(String(200), nullable=False)
    secret_hint: Mapped[str] = mapped_column(String(16), nullable=False)  # "whsec_AbCd"
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WebhookEvent(Base):
    """Something that happened, recorded in the transaction that made it happen (the outbox).

    `key`, when set, makes the event happen once per user (e.g. `run.ended:<run>:<ts>`).
    """

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("user_id", "key"), Index(None, "created_at"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    public_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()


class WebhookDelivery(Base):
    """One event to one endpoint: its attempts so far and what the last one got back.

    `status`: `pending` (due at `next_attempt_at`), `succeeded`, or `failed` (attempts spent).
    `lease_until`: a sender has claimed it until then (one sender per server process).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "endpoint_id", "created_at"),
        Index(None, "event_id"),
    )

    id: Mapped[int] = id_column()
    public_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_event.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
