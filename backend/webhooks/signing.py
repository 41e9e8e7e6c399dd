"""Signing a delivery. Pure: no database, no web framework.

The signature is HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes, `whsec_`
prefix included), over `"<timestamp>.<body>"`: the timestamp header's digits, a dot and
the exact body bytes. docs/webhooks.md shows a receiver checking it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
ID_HEADER = "Fillbook-Webhook-Id"
TIMESTAMP_HEADER = "Fillbook-Webhook-Timestamp"
SIGNATURE_HEADER = "Fillbook-Webhook-Signature"
EVENT_HEADER = "Fillbook-Webhook-Event"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hint(secret: str) -> str:
    """What the dashboard shows of a secret after it was created: its first 4 random chars."""
    return secret[: len(SECRET_PREFIX) + 4]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 of `b"<timestamp>." + body` keyed with `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def headers(
    secret: str, delivery_id: str, event_type: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers a delivery is sent with, besides content type and user agent."""
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: event_type,
    }
