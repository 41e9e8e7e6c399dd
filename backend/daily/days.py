"""Trading days in the user's time zone (pure): a day's bounds and the day of an instant.

A trade belongs to the day its entry falls on in the user's zone; a day runs from one
local midnight to the next, so a daylight-saving day is 23 or 25 hours long.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
_EPOCH = dt.date(1970, 1, 1)
FIRST_DAY, LAST_DAY = _EPOCH, dt.date(2199, 12, 31)  # the times ingest takes (domain.py)


def parse_day(field: str, text: str) -> dt.date:
    """A "YYYY-MM-DD" day from 1970 to 2199; ValueError naming `field` and the value
    otherwise."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field}: must be a day as YYYY-MM-DD, got {text[:40]!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{field}: must be from {FIRST_DAY} to {LAST_DAY}, got {text}")
    return day


def _midnight_ns(day: dt.date, zone: ZoneInfo) -> int:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    # A midnight that a clock change skips is fold 0's reading: zoneinfo maps it forward.
    utc = local.astimezone(dt.UTC)
    return int(utc.timestamp()) * NS_PER_SECOND


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) of `day` in `zone`, as UTC epoch nanoseconds."""
    return _midnight_ns(day, zone), _midnight_ns(day + dt.timedelta(days=1), zone)


def local_days(ts: npt.NDArray[np.int64], zone: ZoneInfo) -> list[dt.date]:
    """The day in `zone` of each UTC epoch-ns timestamp."""
    if ts.size == 0:
        return []
    wall = pd.DatetimeIndex(ts.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone.key)
    days = wall.tz_localize(None).asi8 // NS_PER_DAY
    return [_EPOCH + dt.timedelta(days=int(d)) for d in days.tolist()]
