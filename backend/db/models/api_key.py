from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, created_at_column, id_column, user_fk


class ApiKey(Base):
    """A key an exporter authenticates with. Only a SHA-256 of the secret is stored.

    `scopes` (backend/auth/scopes.py) say what the key may do; `expires_at`, when set,
    is when it stops working.
    """

    __tablename__ = "api_key"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
