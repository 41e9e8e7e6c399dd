"""Recording webhook events in the transaction of their cause (the transactional outbox).

`publish` writes the event and one pending delivery per enabled endpoint of the user that
subscribes to its type, in the caller's session and transaction, and sends nothing: the
sender (backend/webhooks/sender.py) picks deliveries up once they are committed. So a
change that is rolled back sends nothing, and one that is committed is delivered even if
the process dies right after the commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from backend.db.base import utcnow
from backend.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from backend.webhooks.events import EventType

MAX_DATA_BYTES = 64 * 1024
_wakers: list[Callable[[], None]] = []


def publish(
    session: Session,
    user_id: int,
    event_type: EventType,
    data: Mapping[str, Any],
    *,
    key: str | None = None,
) -> str | None:
    """Record `event_type` with `data` for `user_id`'s endpoints in `session`'s transaction.

    `data` must be JSON (orjson: str, int, float, bool, None, lists, dicts, datetimes) and at
    most 64 KiB encoded. `key`, when given, makes the event once-only per user: publishing
    it again is a no-op. Returns the event's public id, or None when nothing was recorded
    (the user has no endpoint, or the key was seen before). Only `flush()`es: the caller's
    transaction commits or rolls back the event with its cause.
    """
    if event_type is EventType.TEST:
        raise ValueError("webhook.test is sent by send_test, not published")
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
    ).all()
    if not endpoints:
        return None
    if key is not None and session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.user_id == user_id, WebhookEvent.key == key)
    ):
        return None
    subscribed = [e for e in endpoints if e.enabled and event_type.value in e.events]
    return record(session, user_id, event_type, data, subscribed, key=key).public_id


def record(
    session: Session,
    user_id: int,
    event_type: EventType,
    data: Mapping[str, Any],
    endpoints: Sequence[WebhookEndpoint],
    *,
    key: str | None = None,
) -> WebhookEvent:
    """The event and a pending delivery of it to each of `endpoints`, flushed."""
    encoded = orjson.dumps(dict(data), option=orjson.OPT_NON_STR_KEYS)
    if len(encoded) > MAX_DATA_BYTES:
        raise ValueError(
            f"{event_type} data is {len(encoded)} bytes encoded; at most {MAX_DATA_BYTES}"
        )
    now = utcnow()
    row = WebhookEvent(
        user_id=user_id,
        public_id="evt_" + secrets.token_urlsafe(16),
        type=event_type.value,
        key=key,
        data=orjson.loads(encoded),
        created_at=now,
    )
    session.add(row)
    session.flush()
    for endpoint in endpoints:
        session.add(
            WebhookDelivery(
                public_id="dlv_" + secrets.token_urlsafe(16),
                endpoint_id=endpoint.id,
                event_id=row.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    if endpoints:
        event.listen(session, "after_commit", _wake_senders, once=True)
    return row


def add_waker(wake: Callable[[], None]) -> None:
    """Have `wake` called after a commit that recorded deliveries (this process's sender)."""
    _wakers.append(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    if wake in _wakers:
        _wakers.remove(wake)


def _wake_senders(_session: Session) -> None:
    for wake in list(_wakers):
        wake()
