"""Every query of the webhooks feature that the API needs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def endpoints(session: Session, user_id: int) -> Sequence[WebhookEndpoint]:
    return session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.user_id == user_id)
        .order_by(WebhookEndpoint.id)
    ).all()


def count(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).where(WebhookEndpoint.user_id == user_id)) or 0)


def endpoint(session: Session, user_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    found = session.get(WebhookEndpoint, endpoint_id)
    return found if found is not None and found.user_id == user_id else None


def deliveries(
    session: Session, endpoint_id: int, status: str | None, limit: int
) -> Sequence[tuple[WebhookDelivery, WebhookEvent]]:
    query = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(
        query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def delivery_ids(session: Session, event_id: int) -> list[str]:
    query = select(WebhookDelivery.public_id).where(WebhookDelivery.event_id == event_id)
    return list(session.scalars(query))
