"""Pure helpers that turn Python values into contract events (docs/ingest.md).

No I/O here: times become epoch nanoseconds, numbers become JSON numbers, and an
event without an `id` gets one derived from its content, so sending the same
event twice (a retry, a re-run backtest, a re-imported CSV) is a duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

Timestamp = dt.datetime | int | str
"""An aware `datetime` (pandas `Timestamp` included), epoch nanoseconds, or ISO-8601 with offset."""

Number = int | float | Decimal

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NS_FLOOR = 10**17  # the service calls smaller integers seconds, ms or µs and refuses them


def to_ns(ts: Timestamp, field: str = "ts") -> int | str:
    """`ts` as the contract wants it: epoch ns for datetimes and ints, ISO strings as given.

    A naive datetime or an ISO string without an offset is refused here, where the
    caller can still fix it, rather than rejected by the service later.
    """
    if isinstance(ts, bool):
        raise TypeError(f"{field}: expected a datetime, epoch ns or ISO-8601 string, got {ts!r}")
    if isinstance(ts, int):
        if ts < NS_FLOOR:
            raise ValueError(f"{field}: integers are epoch nanoseconds, got {ts} (too small)")
        return ts
    if isinstance(ts, dt.datetime):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise ValueError(f"{field}: naive datetime {ts.isoformat()}; give it a time zone")
        value = getattr(ts, "value", None)  # pandas.Timestamp keeps nanoseconds there
        if isinstance(value, int) and hasattr(ts, "nanosecond"):
            return value
        delta = ts - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(ts, str):
        if not _has_offset(ts):
            raise ValueError(f"{field}: ISO-8601 string without an offset: {ts!r}")
        return ts
    raise TypeError(f"{field}: expected a datetime, epoch ns or ISO-8601 string, got {ts!r}")


def _has_offset(text: str) -> bool:
    if text.endswith(("Z", "z")):
        return True
    tail = text[-6:]
    return len(tail) == 6 and tail[0] in "+-" and tail[3] == ":"


def number(value: Number, field: str) -> int | float:
    """A finite JSON number; Decimals become floats (the wire carries binary doubles)."""
    if isinstance(value, bool):
        raise TypeError(f"{field}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{field}: must be finite, got {value!r}")
    return result


def compact(event: dict[str, Any]) -> dict[str, Any]:
    """The event without its `None` fields (the contract's defaults apply to absent ones)."""
    return {key: value for key, value in event.items() if value is not None}


_PREFIXES = {"execution": "x", "order": "o"}


class IdGenerator:
    """Deterministic ids for events the caller sent without one.

    The id hashes the source, the run key, the event's content and how many identical
    events came before it in this exporter (two identical fills at the same time are
    two fills, not a duplicate). Replaying the same events in the same order, in any
    process, yields the same ids. It remembers 16 bytes per distinct event, so callers
    that send millions of events should pass their platform's own ids.
    """

    def __init__(self, source: str, run_key: str) -> None:
        self._prefix = f"{source}\x00{run_key}\x00".encode()
        self._seen: dict[bytes, int] = {}
        self._lock = threading.Lock()  # two threads with the same event need two counts

    def __call__(self, event: Mapping[str, Any]) -> str:
        content = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.blake2b(self._prefix + content, digest_size=16).digest()
        with self._lock:
            occurrence = self._seen.get(digest, 0)
            self._seen[digest] = occurrence + 1
        if occurrence:
            salted = digest + occurrence.to_bytes(8, "little")
            digest = hashlib.blake2b(salted, digest_size=16).digest()
        return f"{_PREFIXES.get(str(event.get('type')), 'e')}-{digest.hex()}"
