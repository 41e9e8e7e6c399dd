"""Outbound webhooks (docs/webhooks.md): `publish` records an event with its cause."""

from backend.webhooks.events import EventType
from backend.webhooks.outbox import publish

__all__ = ["EventType", "publish"]
