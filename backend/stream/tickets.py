"""Stream tickets: short-lived, single-use secrets that open `/api/stream?ticket=`.

A browser cannot send an `Authorization` header with a WebSocket, and a credential in
the URL ends up in access logs and proxies. A ticket in the URL is harmless there: it
lives for a minute, opens one stream, and only for the principal that asked for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from backend.auth import repository
from backend.auth.deps import Principal, key_principal, revocation_reason
from backend.db.models import ApiKey, StreamTicket
from backend.errors import NotAuthenticated

TICKET_LIFETIME = dt.timedelta(seconds=60)
TICKET_PREFIX = "st_"


class StreamTicketRead(BaseModel):
    ticket: str = Field(description="open `/api/stream?ticket=<ticket>` with it, once")
    expires_at: dt.datetime = Field(description="about a minute from now")


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def create_ticket(
    session: Session, principal: Principal, now: dt.datetime | None = None
) -> StreamTicketRead:
    """A ticket for `principal`; expired tickets nobody redeemed are deleted on the way."""
    now = now or dt.datetime.now(dt.UTC)
    session.execute(delete(StreamTicket).where(StreamTicket.expires_at <= now))
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    row = StreamTicket(
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        ticket_hash=_hash(ticket),
        created_at=now,
        expires_at=now + TICKET_LIFETIME,
        credential_expires_at=principal.expires_at,
    )
    session.add(row)
    session.flush()
    return StreamTicketRead(ticket=ticket, expires_at=row.expires_at)


@dataclass(frozen=True)
class TicketClaims:
    """Whom a redeemed ticket was issued to."""

    user_id: int
    api_key_id: int | None
    credential_expires_at: dt.datetime | None


REFUSED = "invalid stream ticket: unknown, used or expired; POST /api/stream/ticket again"


def take_ticket(
    session: Session, ticket: str, now: dt.datetime | None = None
) -> TicketClaims | None:
    """Use a ticket up (in a write session of its own, committed whatever follows): its
    claims, or None when it is unknown, used or expired."""
    now = now or dt.datetime.now(dt.UTC)
    row = session.scalars(
        select(StreamTicket).where(StreamTicket.ticket_hash == _hash(ticket))
    ).one_or_none()
    if row is None:
        return None
    # Deleting is what uses it up: of two redemptions racing, only one deletes the row.
    used: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        delete(StreamTicket).where(StreamTicket.id == row.id)
    )
    if used.rowcount != 1 or row.expires_at <= now:
        return None
    return TicketClaims(row.user_id, row.api_key_id, row.credential_expires_at)


def ticket_principal(
    session: Session, claims: TicketClaims | None, now: dt.datetime | None = None
) -> Principal:
    """The principal a taken ticket stands for; NotAuthenticated when there is none, or its
    key or user no longer holds."""
    if claims is None:
        raise NotAuthenticated(REFUSED)
    user = repository.get_user(session, claims.user_id)
    if user is None:
        raise NotAuthenticated(REFUSED)
    if claims.api_key_id is None:
        principal = Principal(user=user, expires_at=claims.credential_expires_at)
    else:
        api_key = session.get(ApiKey, claims.api_key_id)
        if api_key is None:
            raise NotAuthenticated(REFUSED)
        principal = key_principal(user, api_key)
    reason = revocation_reason(session, principal, now)
    if reason is not None:
        raise NotAuthenticated(f"invalid stream ticket: {reason}")
    return principal
