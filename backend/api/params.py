"""Query parameters several routers share."""

from __future__ import annotations

from backend.errors import InvalidPayload
from backend.ingest.timestamps import TimestampError, parse_ts


def query_time(name: str, value: str | None) -> int | None:
    """A time parameter: ISO-8601 with an offset, or epoch ns digits; 422 naming it otherwise."""
    if value is None or value == "":
        return None
    try:
        return parse_ts(int(value) if value.isdigit() else value)
    except TimestampError as exc:
        raise InvalidPayload(f"{name}: {exc}") from None
