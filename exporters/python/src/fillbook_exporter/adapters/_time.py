"""Time helpers shared by the adapters.

Platforms often stamp times as naive wall-clock times of some zone. `aware()` reads
one such time on its own: a time the clocks skipped (a DST gap) raises `ValueError`
naming it, and a time of a repeated hour is taken as its first pass. `clock()` reads
the times of one platform clock in the order it produced them: there a repeated hour
is resolved by that order (02:45 then 02:15 is the second 02:15), falling back to the
first pass where the order cannot tell (fillbook_exporter/localtime.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fillbook_exporter.localtime import LocalClock, resolve

UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def aware(when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`when` with its own offset, or (UTC) read in `tz` when naive.

    Raises `ValueError` for a naive time in a DST gap; a naive time in a repeated
    hour is its first pass.
    """
    if when.tzinfo is not None and when.utcoffset() is not None:
        return when
    return resolve(when, tz, "earliest")


def clock(tz: dt.tzinfo) -> LocalClock:
    """Reads the naive times of one platform clock in order (see the module docstring)."""
    return LocalClock(tz, "order", fallback="earliest")


def timeframe(seconds: float) -> str:
    """The contract's timeframe for a bar length: 86400 -> "1d", 300 -> "5m"."""
    whole = round(seconds)
    if whole <= 0:
        raise ValueError(f"bar length must be positive, got {seconds} s")
    for unit, size in UNITS:
        if whole % size == 0:
            return f"{whole // size}{unit}"
    raise AssertionError("unreachable: every length is a whole number of seconds")
