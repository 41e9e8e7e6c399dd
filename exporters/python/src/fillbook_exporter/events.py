"""Pure helpers that turn Python values into contract events (docs/ingest.md).

No I/O here: times become epoch nanoseconds, numbers become JSON numbers, and an
event without an `id` gets one derived from its content, so sending the same
event twice (a retry, a re-run backtest, a re-imported CSV) is a duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import orjson

from fillbook_exporter import domain

Timestamp = dt.datetime | int | str
"""An aware `datetime` (pandas `Timestamp` included), epoch nanoseconds, or ISO-8601 with offset."""

Number = int | float | Decimal

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NS_FLOOR = domain.NS_FLOOR  # the service calls smaller integers seconds, ms or µs and refuses them
# The service's grammar (backend/ingest/timestamps.py): date, time, fraction, offset.
_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<fraction>\d{1,9}))?"
    r"(?P<offset>Z|z|[+-]\d{2}:?\d{2})?"
)


def to_ns(ts: Timestamp, field: str = "ts") -> int | str:
    """`ts` as the contract wants it: epoch ns for datetimes and ints, ISO strings as given.

    A naive datetime, an ISO string without an offset, or a time outside the service's
    domain (before 1970 or from 2200-01-01 UTC on; integers below 1e17, which read as
    seconds, ms or µs) is refused here, where the caller can still fix it, rather than
    rejected by the service later. An aware datetime before 1973-03-03 (below 1e17 ns)
    is sent as ISO text, since the service would read so small an integer as another unit.
    """
    if isinstance(ts, bool):
        raise TypeError(f"{field}: expected a datetime, epoch ns or ISO-8601 string, got {ts!r}")
    if isinstance(ts, int):
        if NS_FLOOR <= ts < domain.MAX_TS_NS:
            return ts
        return domain.ts_ns(ts, field)
    if isinstance(ts, dt.datetime):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise ValueError(f"{field}: naive datetime {ts.isoformat()}; give it a time zone")
        value = getattr(ts, "value", None)  # pandas.Timestamp keeps nanoseconds there
        if isinstance(value, int) and hasattr(ts, "nanosecond"):
            ns = value
        else:
            delta = ts - _EPOCH
            ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        if NS_FLOOR <= ns < domain.MAX_TS_NS:
            return ns
        domain.ts_instant(ts, field)  # raises outside [1970, 2200)
        return _iso_utc(ns)
    if isinstance(ts, str):
        parse_iso(ts, field)
        return ts
    raise TypeError(f"{field}: expected a datetime, epoch ns or ISO-8601 string, got {ts!r}")


def parse_iso(text: str, field: str = "ts") -> dt.datetime:
    """The instant of an ISO-8601 string with an offset, checked as the service checks it.

    Fractions of a second beyond microseconds are dropped from the returned datetime
    (they do not change whether it is in the domain).
    """
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{field}: not an ISO-8601 date-time: {text[:64]!r}")
    offset = match["offset"]
    if offset is None:
        raise ValueError(f"{field}: ISO-8601 string without an offset: {text[:64]!r}")
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        when = dt.datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
    except ValueError as exc:
        raise ValueError(f"{field}: not a valid date-time: {text[:64]!r} ({exc})") from None
    return domain.ts_instant(when, field, shown=repr(text[:64]))


def _iso_utc(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    base = _EPOCH + dt.timedelta(seconds=seconds)
    return f"{base:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def number(value: Number, field: str) -> int | float:
    """A finite JSON number; Decimals become floats (the wire carries binary doubles)."""
    return domain.finite(value, field)


def _values(values: Any, field: str) -> Any:
    if not isinstance(values, Mapping):
        raise TypeError(f"{field}: expected an object of named numbers, got {values!r}")
    return {name: None if value is None else number(value, f"{field}.{name}")
            for name, value in values.items()}


def _timeframe(value: Any, field: str) -> Any:
    domain.timeframe_seconds(value, field)
    return value


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    **dict.fromkeys(domain.POSITIVE_AMOUNTS, domain.positive_amount),
    **dict.fromkeys(domain.AMOUNTS, domain.amount),
    **dict.fromkeys(domain.VOLUMES, domain.volume),
    "ts": to_ns,
    "timeframe": _timeframe,
    "values": _values,
}


_NUMBERS = (int, float)
_LARGEST = sys.float_info.max
# Plain values inside these bounds need no conversion: (lowest, highest, types).
_BOUNDS: dict[str, tuple[float, float, tuple[type, ...]]] = {
    **dict.fromkeys(domain.POSITIVE_AMOUNTS, (domain.MIN_AMOUNT, domain.MAX_AMOUNT, _NUMBERS)),
    **dict.fromkeys(domain.AMOUNTS, (0.0, domain.MAX_AMOUNT, _NUMBERS)),
    **dict.fromkeys(domain.VOLUMES, (0.0, _LARGEST, _NUMBERS)),
    "ts": (NS_FLOOR, domain.MAX_TS_NS - 1, (int,)),
}


def check_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """`event` without its `None` fields, its time and numbers checked against the domain.

    A datetime `ts` becomes epoch ns and numbers become ints or floats; a value the
    service would refuse raises as the `Exporter` event methods do.
    """
    body: dict[str, Any] = {}
    bounds_of, check_of = _BOUNDS.get, _CHECKS.get
    for key, value in event.items():
        if value is None:
            continue
        bounds = bounds_of(key)  # the common case first: a plain value in the domain
        if bounds is None or type(value) not in bounds[2] or not (
            bounds[0] <= value <= bounds[1]
        ):
            check = check_of(key)
            if check is not None:
                value = check(value, key)
        body[key] = value
    return body


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
