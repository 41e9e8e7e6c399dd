"""Query parameters several routers share."""

from __future__ import annotations

from backend.errors import InvalidPayload
from backend.ingest.timestamps import TimestampError, format_ts, parse_ts
from backend.market.timeframes import parse_timeframe


def query_time(name: str, value: str | None) -> int | None:
    """A time parameter: ISO-8601 with an offset, or epoch ns digits; 422 naming it otherwise."""
    if value is None or value == "":
        return None
    try:
        return parse_ts(int(value) if value.isascii() and value.isdigit() else value)
    except TimestampError as exc:
        raise InvalidPayload(f"{name}: {exc}") from None


def query_window(
    timeframe: str, start: str | None, end: str | None
) -> tuple[int, int | None, int | None]:
    """(timeframe in seconds, start ns, end ns) of a bars-like query; 422 naming the field."""
    try:
        timeframe_s = parse_timeframe(timeframe)
    except ValueError as exc:
        raise InvalidPayload(f"timeframe: {exc}") from None
    first, last = query_time("start", start), query_time("end", end)
    if first is not None and last is not None and last <= first:
        raise InvalidPayload(
            f"end: must be after start, got start={format_ts(first)} end={format_ts(last)}"
        )
    return timeframe_s, first, last
