"""Managing a user's webhook endpoints, reading their delivery log, sending a test event."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from backend.db.base import utcnow
from backend.db.models import WebhookEndpoint
from backend.errors import Conflict, InvalidPayload, NotFound
from backend.webhooks import outbox, repository, signing
from backend.webhooks.addresses import RefusedAddress, check
from backend.webhooks.events import DESCRIPTIONS, SUBSCRIBABLE, EventType
from backend.webhooks.schemas import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryList,
    WebhookDeliveryRead,
    WebhookEventTypeRead,
    WebhookRead,
    WebhookTestSent,
    WebhookUpdate,
)
from backend.webhooks.secrets import SecretBox
from backend.webhooks.sender import WebhookSender

if TYPE_CHECKING:
    from backend.api.context import AppContext

MAX_ENDPOINTS = 20  # per user


def webhook_sender(context: AppContext) -> WebhookSender:
    """The app's one webhook sender, created on first use."""
    found = context.extras.get("webhooks")
    if found is None:
        with _CREATE:
            found = context.extras.get("webhooks")
            if found is None:
                box = SecretBox(context.settings.signing_key())
                found = context.extras["webhooks"] = WebhookSender(
                    context.db, context.settings, box
                )
    assert isinstance(found, WebhookSender), f"extras['webhooks'] is {type(found).__name__}"
    return found


_CREATE = threading.Lock()


def event_types() -> list[WebhookEventTypeRead]:
    return [WebhookEventTypeRead(type=e, description=DESCRIPTIONS[e]) for e in SUBSCRIBABLE]


def list_endpoints(session: Session, user_id: int) -> list[WebhookRead]:
    return [WebhookRead.model_validate(e) for e in repository.endpoints(session, user_id)]


def get(session: Session, user_id: int, endpoint_id: int) -> WebhookRead:
    return WebhookRead.model_validate(_endpoint(session, user_id, endpoint_id))


def create(
    session: Session, sender: WebhookSender, user_id: int, data: WebhookCreate
) -> WebhookCreated:
    if repository.count(session, user_id) >= MAX_ENDPOINTS:
        raise Conflict(f"you have {MAX_ENDPOINTS} webhook endpoints, the most one user may have")
    _check_url(sender, data.url)
    secret = signing.new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        user_id=user_id,
        url=data.url,
        description=data.description,
        events=[e.value for e in data.events],
        enabled=data.enabled,
        secret_sealed=sender.box.seal(secret),
        secret_hint=signing.hint(secret),
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)


def update(
    session: Session, sender: WebhookSender, user_id: int, endpoint_id: int, data: WebhookUpdate
) -> WebhookRead:
    endpoint = _endpoint(session, user_id, endpoint_id)
    if data.url is not None:
        _check_url(sender, data.url)
        endpoint.url = data.url
    if data.events is not None:
        endpoint.events = [e.value for e in data.events]
    if data.description is not None:
        endpoint.description = data.description
    if data.enabled is not None:
        if data.enabled and not endpoint.enabled and not endpoint.secret_sealed:
            raise Conflict(
                f"webhook {endpoint_id} has no secret (it was imported): rotate its secret first"
            )
        if data.enabled and not endpoint.enabled:  # re-enabled by hand: a fresh count
            _check_url(sender, data.url or endpoint.url)
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = None
            endpoint.disabled_at = None
        endpoint.enabled = data.enabled
    endpoint.updated_at = utcnow()
    session.flush()
    if endpoint.enabled:
        sender.wake()  # deliveries left pending while it was disabled
    return WebhookRead.model_validate(endpoint)


def rotate_secret(
    session: Session, sender: WebhookSender, user_id: int, endpoint_id: int
) -> WebhookCreated:
    """A new secret, in this response only; the old one stops signing at once."""
    endpoint = _endpoint(session, user_id, endpoint_id)
    secret = signing.new_secret()
    endpoint.secret_sealed = sender.box.seal(secret)
    endpoint.secret_hint = signing.hint(secret)
    endpoint.updated_at = utcnow()
    session.flush()
    return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)


def delete(session: Session, user_id: int, endpoint_id: int) -> None:
    session.delete(_endpoint(session, user_id, endpoint_id))
    session.flush()


def deliveries(
    session: Session, user_id: int, endpoint_id: int, status: str | None, limit: int
) -> WebhookDeliveryList:
    _endpoint(session, user_id, endpoint_id)
    rows = repository.deliveries(session, endpoint_id, status, limit)
    return WebhookDeliveryList(
        items=[
            WebhookDeliveryRead(
                id=d.public_id,
                event_id=e.public_id,
                event_type=e.type,
                status=d.status,
                attempts=d.attempts,
                response_status=d.response_status,
                response_excerpt=d.response_excerpt,
                error=d.error,
                created_at=d.created_at,
                last_attempt_at=d.last_attempt_at,
                next_attempt_at=d.next_attempt_at,
                completed_at=d.completed_at,
            )
            for d, e in rows
        ]
    )


def send_test(session: Session, user_id: int, endpoint_id: int) -> WebhookTestSent:
    """A `webhook.test` event to this endpoint alone, sent like any other delivery."""
    endpoint = _endpoint(session, user_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict(f"webhook {endpoint_id} is disabled: enable it to send a test event")
    data = {"endpoint_id": endpoint.id, "message": "a test event from Fillbook"}
    event = outbox.record(session, user_id, EventType.TEST, data, [endpoint])
    (delivery_id,) = repository.delivery_ids(session, event.id)
    return WebhookTestSent(event_id=event.public_id, delivery_id=delivery_id)


def _check_url(sender: WebhookSender, url: str) -> None:
    try:
        check(url, sender.policy, sender.resolve)
    except RefusedAddress as exc:
        raise InvalidPayload(
            f"url: {exc}", extra={"errors": [{"field": "url", "problem": str(exc)}]}
        ) from None


def _endpoint(session: Session, user_id: int, endpoint_id: int) -> WebhookEndpoint:
    found = repository.endpoint(session, user_id, endpoint_id)
    if found is None:
        raise NotFound(f"webhook_id: no webhook {endpoint_id}")
    return found
