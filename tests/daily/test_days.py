"""A day's bounds and the day of an instant in a zone, across clock changes (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from backend.daily.days import day_bounds, local_days, parse_day
from backend.ingest.timestamps import parse_ts

NEW_YORK = ZoneInfo("America/New_York")


class TestDays:
    def test_a_spring_forward_day_is_23_hours_and_a_fall_back_day_25(self) -> None:
        start, end = day_bounds(dt.date(2026, 3, 8), NEW_YORK)
        assert (start, end) == (parse_ts("2026-03-08T05:00:00Z"), parse_ts("2026-03-09T04:00:00Z"))
        start, end = day_bounds(dt.date(2026, 11, 1), NEW_YORK)
        assert (start, end) == (parse_ts("2026-11-01T04:00:00Z"), parse_ts("2026-11-02T05:00:00Z"))
        assert day_bounds(dt.date(2026, 3, 8), ZoneInfo("UTC"))[0] == parse_ts(
            "2026-03-08T00:00:00Z"
        )

    def test_the_day_of_an_instant_is_the_local_one(self) -> None:
        ts = np.array([parse_ts(t) for t in (
            "2026-03-09T03:59:59.999999999Z",  # 23:59:59 EDT on the 8th
            "2026-03-09T04:00:00Z",  # midnight EDT: the 9th
            "2026-11-02T04:30:00Z",  # 23:30 EST on the 1st (a 25-hour day)
            "2026-11-01T05:30:00Z",  # 01:30 EDT or EST: the 1st either way
        )], dtype=np.int64)  # fmt: skip
        assert local_days(ts, NEW_YORK) == [
            dt.date(2026, 3, 8),
            dt.date(2026, 3, 9),
            dt.date(2026, 11, 1),
            dt.date(2026, 11, 1),
        ]
        assert local_days(np.array([], dtype=np.int64), NEW_YORK) == []

    def test_days_outside_the_times_ingest_takes_are_refused(self) -> None:
        assert parse_day("to", "2199-12-31") == dt.date(2199, 12, 31)
        assert parse_day("from", "1970-01-01") == dt.date(1970, 1, 1)
        with pytest.raises(
            ValueError, match="^to: must be from 1970-01-01 to 2199-12-31, got 9999-12-31$"
        ):
            parse_day("to", "9999-12-31")
        with pytest.raises(
            ValueError, match="^day: must be from 1970-01-01 to 2199-12-31, got 1969-12-31$"
        ):
            parse_day("day", "1969-12-31")
        # the first day east of UTC starts before the epoch: still a plain bound
        assert day_bounds(dt.date(1970, 1, 1), ZoneInfo("Asia/Tokyo"))[0] == -9 * 3600 * 10**9
        assert day_bounds(dt.date(2199, 12, 31), ZoneInfo("UTC"))[1] == 7_258_118_400 * 10**9

    @pytest.mark.parametrize("text", ["2026-13-01", "2026-1-01", "20260101", "tomorrow", ""])
    def test_a_bad_day_is_refused_naming_the_field_and_value(self, text: str) -> None:
        with pytest.raises(ValueError, match=f"^day: must be a day as YYYY-MM-DD, got {text!r}$"):
            parse_day("day", text)
