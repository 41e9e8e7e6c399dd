from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.webhooks.addresses import MAX_URL_CHARS
from backend.webhooks.events import SUBSCRIBABLE, EventType

MAX_DESCRIPTION_CHARS = 200
_VALID = ", ".join(e.value for e in SUBSCRIBABLE)


def _events(values: list[EventType]) -> list[EventType]:
    if EventType.TEST in values:
        raise ValueError(f"webhook.test cannot be subscribed to; valid events: {_VALID}")
    return [e for e in SUBSCRIBABLE if e in values]  # canonical order, no duplicates


class WebhookCreate(BaseModel):
    url: str = Field(max_length=MAX_URL_CHARS, examples=["https://hooks.example.com/fillbook"])
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    enabled: bool = True

    _check_events = field_validator("events")(_events)


class WebhookUpdate(BaseModel):
    """Fields to change; `enabled: true` also re-enables an endpoint the sender disabled."""

    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    enabled: bool | None = None

    @field_validator("events")
    @classmethod
    def _check_events(cls, values: list[EventType] | None) -> list[EventType] | None:
        return None if values is None else _events(values)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    events: list[EventType]
    enabled: bool
    secret_hint: str = Field(description="the first characters of the secret, to tell it apart")
    consecutive_failures: int = Field(
        description="deliveries in a row that failed all their attempts"
    )
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="the signing secret: shown in this response only")


class WebhookEventTypeRead(BaseModel):
    type: EventType
    description: str


DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookDeliveryRead(BaseModel):
    id: str = Field(description="the delivery id, sent as Fillbook-Webhook-Id (idempotency)")
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    response_excerpt: str | None
    error: str | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    completed_at: dt.datetime | None


class WebhookDeliveryList(BaseModel):
    items: list[WebhookDeliveryRead]


class WebhookTestSent(BaseModel):
    event_id: str
    delivery_id: str
