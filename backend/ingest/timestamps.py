"""Event times: ISO-8601 strings with an explicit offset, or integer epoch nanoseconds.

Everything is stored as UTC epoch nanoseconds. Integers too small to be
nanoseconds since 1973 are refused with a message that names the unit they
look like, because "1702650600" silently read as nanoseconds would be 1970.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import numpy as np
import numpy.typing as npt

from backend.ingest.domain import NS_PER_SECOND, DomainError, check_ts

# Epoch values for 2001-09-09 (1e9 s): below 1e11 is seconds, below 1e14 milliseconds,
# below 1e17 microseconds; nanoseconds start at 1e17 (1973-03-03).
_UNIT_LIMITS = ((10**11, "seconds"), (10**14, "milliseconds"), (10**17, "microseconds"))

_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<fraction>\d{1,9}))?"
    r"(?P<offset>Z|z|[+-]\d{2}:?\d{2})?"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class TimestampError(ValueError):
    """A time that is not an offset-aware ISO-8601 string or epoch nanoseconds."""


def parse_ts(value: object) -> int:
    """UTC epoch nanoseconds for an event's `ts`."""
    if isinstance(value, bool):
        raise TimestampError("must be an ISO-8601 string with an offset or integer epoch ns")
    if isinstance(value, int):
        return _from_int(value)
    if isinstance(value, str):
        return _from_iso(value)
    raise TimestampError(
        f"must be an ISO-8601 string with an offset or integer epoch ns, got {type(value).__name__}"
    )


def _from_int(value: int) -> int:
    if value < 0:
        raise TimestampError(f"must be epoch nanoseconds >= 0, got {value}")
    for limit, unit in _UNIT_LIMITS:
        if value < limit:
            raise TimestampError(
                f"{value} looks like epoch {unit}; send epoch nanoseconds "
                "or an ISO-8601 string with an offset"
            )
    return _in_domain(value, value)


def _in_domain(ns: int, shown: object) -> int:
    try:
        return check_ts(ns, shown)
    except DomainError as exc:
        raise TimestampError(str(exc)) from None


def _from_iso(value: str) -> int:
    match = _ISO.fullmatch(value.strip())
    if match is None:
        raise TimestampError(f"is not an ISO-8601 date-time: {value[:64]!r}")
    offset = match["offset"]
    if offset is None:
        raise TimestampError(
            f"{value[:64]!r} has no UTC offset; add 'Z' or '+HH:MM' (naive times are ambiguous)"
        )
    try:
        base = dt.datetime.fromisoformat(f"{match['date']}T{match['time']}{_offset(offset)}")
    except ValueError as exc:
        raise TimestampError(f"is not a valid date-time: {value[:64]!r} ({exc})") from None
    fraction = match["fraction"] or ""
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    seconds = (base - _EPOCH) // dt.timedelta(seconds=1)
    if seconds < 0:
        raise TimestampError(f"is before 1970-01-01: {value[:64]!r}")
    return _in_domain(seconds * NS_PER_SECOND + nanos, repr(value[:64]))


def _offset(offset: str) -> str:
    if offset in ("Z", "z"):
        return "+00:00"
    return offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"


def format_ts(ns: int) -> str:
    """ISO-8601 UTC with as many fractional digits as the value needs (up to 9)."""
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    text = (_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        digits = f"{nanos:09d}"
        if digits.endswith("000000"):
            digits = digits[:3]
        elif digits.endswith("000"):
            digits = digits[:6]
        text += "." + digits
    return text + "Z"


def format_ts_array(ns: npt.NDArray[np.int64]) -> list[str]:
    """`format_ts` of every value, vectorised (values from 1970 to 2262)."""
    stamps: npt.NDArray[np.datetime64] = ns.view("datetime64[ns]")
    nanos = ns % NS_PER_SECOND
    text = np.empty(ns.size, dtype="<U30")
    digits: tuple[tuple[Literal["s", "ms", "us", "ns"], npt.NDArray[np.bool_]], ...] = (
        ("s", nanos == 0),
        ("ms", (nanos != 0) & (nanos % 1_000_000 == 0)),
        ("us", (nanos % 1_000_000 != 0) & (nanos % 1_000 == 0)),
        ("ns", nanos % 1_000 != 0),
    )
    for unit, rows in digits:
        if rows.any():
            text[rows] = np.char.add(np.datetime_as_string(stamps[rows], unit=unit), "Z")
    result: list[str] = text.tolist()
    return result
