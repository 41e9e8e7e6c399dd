from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, UTCDateTime, created_at_column, id_column, user_fk


class StreamTicket(Base):
    """A short-lived, single-use ticket that opens `/api/stream` instead of a credential in
    the URL. Only a SHA-256 of the secret is stored; redeeming it deletes the row.

    Bound to its user and, when issued to an API key, to that key: the stream is then
    closed when the key is revoked. `credential_expires_at` is when the credential that
    asked for the ticket expires (an access token's `exp`, a key's `expires_at`).
    """

    __tablename__ = "stream_ticket"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    api_key_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("api_key.id", ondelete="CASCADE")
    )
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    credential_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
