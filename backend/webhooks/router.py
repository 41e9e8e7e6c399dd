"""Webhook endpoints of the caller: a person's, like API keys (they hold a secret)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.auth.deps import CurrentUser
from backend.webhooks import service
from backend.webhooks.schemas import (
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryList,
    WebhookEventTypeRead,
    WebhookRead,
    WebhookTestSent,
    WebhookUpdate,
)
from backend.webhooks.service import webhook_sender

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
_404: dict[int | str, dict[str, Any]] = {404: {}}


@router.get("/events", operation_id="list_webhook_event_types")
def list_event_types(_user: CurrentUser) -> list[WebhookEventTypeRead]:
    """The events an endpoint can subscribe to."""
    return service.event_types()


@router.get("", operation_id="list_webhooks")
def list_webhooks(user: CurrentUser, session: SessionDep) -> list[WebhookRead]:
    """The caller's webhook endpoints, without their secrets."""
    return service.list_endpoints(session, user.id)


@router.post(
    "", status_code=status.HTTP_201_CREATED, operation_id="create_webhook",
    responses={409: {}, 422: {}},
)  # fmt: skip
def create_webhook(
    data: WebhookCreate, user: CurrentUser, session: WriteSessionDep, context: ContextDep
) -> WebhookCreated:
    """Register an endpoint; its signing secret is in this response only."""
    return service.create(session, webhook_sender(context), user.id, data)


@router.get("/{webhook_id}", operation_id="get_webhook", responses=_404)
def get_webhook(webhook_id: int, user: CurrentUser, session: SessionDep) -> WebhookRead:
    """One endpoint of the caller's."""
    return service.get(session, user.id, webhook_id)


@router.patch("/{webhook_id}", operation_id="update_webhook", responses={404: {}, 422: {}})
def update_webhook(
    webhook_id: int,
    data: WebhookUpdate,
    user: CurrentUser,
    session: WriteSessionDep,
    context: ContextDep,
) -> WebhookRead:
    """Change url, events, description or enabled (`enabled: true` re-enables it)."""
    return service.update(session, webhook_sender(context), user.id, webhook_id, data)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_webhook",
    responses=_404,
)  # fmt: skip
def delete_webhook(webhook_id: int, user: CurrentUser, session: WriteSessionDep) -> None:
    """Delete an endpoint and its delivery log."""
    service.delete(session, user.id, webhook_id)


@router.post("/{webhook_id}/rotate-secret", operation_id="rotate_webhook_secret", responses=_404)
def rotate_secret(
    webhook_id: int, user: CurrentUser, session: WriteSessionDep, context: ContextDep
) -> WebhookCreated:
    """A new signing secret, in this response only; the old one stops at once."""
    return service.rotate_secret(session, webhook_sender(context), user.id, webhook_id)


@router.post(
    "/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED, operation_id="test_webhook",
    responses={404: {}, 409: {}},
)  # fmt: skip
def send_test(webhook_id: int, user: CurrentUser, session: WriteSessionDep) -> WebhookTestSent:
    """Queue a `webhook.test` event to this endpoint; it shows in the delivery log."""
    return service.send_test(session, user.id, webhook_id)


@router.get("/{webhook_id}/deliveries", operation_id="list_webhook_deliveries", responses=_404)
def list_deliveries(
    webhook_id: int,
    user: CurrentUser,
    session: SessionDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WebhookDeliveryList:
    """The endpoint's latest deliveries, newest first: status, attempts, answer, error."""
    return service.deliveries(session, user.id, webhook_id, status_, limit)
