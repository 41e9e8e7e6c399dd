"""Webhook endpoints in the journal export, and made again on import (backend/journal).

The signing secret is never exported. An imported endpoint therefore comes in disabled and
without a secret: rotate its secret (give the receiver the new one), then enable it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from backend.db.base import utcnow
from backend.db.models import WebhookEndpoint
from backend.webhooks import repository
from backend.webhooks.addresses import MAX_URL_CHARS
from backend.webhooks.schemas import MAX_DESCRIPTION_CHARS, WebhookCreate

KIND = "webhook_endpoint"
IMPORTED_REASON = (
    "imported from a journal export, which never holds the secret: rotate the secret, "
    "give the receiver the new one, then enable the endpoint"
)


class EndpointRecord(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    events: list[str] = Field(min_length=1, max_length=20)
    enabled: bool = True


def export_records(session: Session, user_id: int) -> Iterator[dict[str, Any]]:
    for endpoint in repository.endpoints(session, user_id):
        yield {"kind": KIND, "url": endpoint.url, "description": endpoint.description,
               "events": endpoint.events, "enabled": endpoint.enabled}  # fmt: skip


def parse_record(record: dict[str, Any]) -> EndpointRecord:
    """A checked record (ValidationError names a bad field, e.g. an unknown event)."""
    parsed = EndpointRecord.model_validate(record)
    WebhookCreate.model_validate({"url": parsed.url, "events": parsed.events})
    return parsed


def apply(session: Session, user_id: int, records: list[EndpointRecord]) -> int:
    """Make the endpoints `user_id` has no endpoint of the same url for; how many."""
    have = {endpoint.url for endpoint in repository.endpoints(session, user_id)}
    made = 0
    now = utcnow()
    for record in records:
        if record.url in have:
            continue
        session.add(
            WebhookEndpoint(
                user_id=user_id, url=record.url, description=record.description,
                events=record.events, enabled=False, secret_sealed="", secret_hint="",
                consecutive_failures=0, disabled_reason=IMPORTED_REASON, disabled_at=now,
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        have.add(record.url)
        made += 1
    session.flush()
    return made
