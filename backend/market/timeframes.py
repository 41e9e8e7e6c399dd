"""Timeframes: a count and a unit (`1s`, `5m`, `1h`, `1d`), stored as seconds."""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TIMEFRAME = re.compile(r"([1-9]\d{0,5})([smhd])")


def parse_timeframe(value: str) -> int:
    """Seconds in a timeframe such as `5m`; raises ValueError naming the expected form."""
    match = _TIMEFRAME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            "must be a positive number and a unit s, m, h or d (like '1s', '5m', '1h'), "
            f"got {value!r}"
        )
    return int(match[1]) * UNIT_SECONDS[match[2]]


def format_timeframe(seconds: int) -> str:
    """The largest whole unit: 60 → `1m`, 90 → `90s`, 86400 → `1d`."""
    for unit in ("d", "h", "m"):
        size = UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
