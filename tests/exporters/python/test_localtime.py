"""Naive wall-clock times to UTC across DST changes (fillbook_exporter/localtime.py). Pure."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fillbook_exporter.adapters._time import aware, clock
from fillbook_exporter.localtime import (
    AmbiguousTimeError,
    LocalClock,
    LocalTimeError,
    NonexistentTimeError,
    readings,
    resolve,
    to_utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def wall(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# (zone, a time in the spring gap, the repeated hour's times and their two passes in UTC)
ZONES = [
    pytest.param(BERLIN, "2023-03-26 02:30",
                 "2023-10-29", ("02:30", "02:45", "02:15"), ("00:30", "00:45", "01:15"),
                 id="Europe/Berlin"),
    pytest.param(NEW_YORK, "2023-03-12 02:30",
                 "2023-11-05", ("01:30", "01:45", "01:15"), ("05:30", "05:45", "06:15"),
                 id="America/New_York"),
]


class TestReadings:
    def test_an_ordinary_time_has_one_reading(self) -> None:
        assert readings(wall("2023-07-01 12:00"), BERLIN) == (utc("2023-07-01 10:00"),)
        assert readings(wall("2023-01-01 12:00"), NEW_YORK) == (utc("2023-01-01 17:00"),)

    def test_a_gap_has_none_and_a_repeat_two_earliest_first(self) -> None:
        assert readings(wall("2023-03-26 02:30"), BERLIN) == ()
        assert readings(wall("2023-10-29 02:15"), BERLIN) == (
            utc("2023-10-29 00:15"), utc("2023-10-29 01:15"))
        assert readings(wall("2023-03-12 02:00"), NEW_YORK) == ()
        assert readings(wall("2023-11-05 01:00"), NEW_YORK) == (
            utc("2023-11-05 05:00"), utc("2023-11-05 06:00"))

    def test_the_edges_of_the_changes(self) -> None:
        # 03:00 Berlin exists on the spring day (the first time after the jump), 01:59:59 too.
        assert readings(wall("2023-03-26 03:00"), BERLIN) == (utc("2023-03-26 01:00"),)
        assert readings(wall("2023-03-26 01:59:59"), BERLIN) == (utc("2023-03-26 00:59:59"),)
        assert readings(wall("2023-03-26 02:59:59.999999"), BERLIN) == ()
        # 03:00 Berlin on the autumn day is after the repeat; 02:59:59 is still in it.
        assert len(readings(wall("2023-10-29 03:00"), BERLIN)) == 1
        assert len(readings(wall("2023-10-29 02:59:59"), BERLIN)) == 2
        assert len(readings(wall("2023-11-05 02:00"), NEW_YORK)) == 1


class TestGap:
    @pytest.mark.parametrize(("zone", "gap", "fall", "times", "passes"), ZONES)
    def test_a_time_the_clocks_skipped_is_an_error_in_every_mode(
        self, zone: ZoneInfo, gap: str, fall: str, times: tuple[str, ...],
        passes: tuple[str, ...],
    ) -> None:
        for rule in ("order", "earliest", "latest", "raise"):
            with pytest.raises(NonexistentTimeError) as caught:
                resolve(wall(gap), zone, rule)
            assert str(caught.value) == (
                f"{gap} does not exist in {zone.key} (the clocks jumped from 02:00 to 03:00)")

    def test_the_message_shows_seconds_and_fractions_when_there_are_some(self) -> None:
        with pytest.raises(NonexistentTimeError, match=r"^2023-03-26 02:00:00.25 does not"):
            resolve(wall("2023-03-26 02:00:00.250"), BERLIN)

    def test_a_gap_of_half_an_hour(self) -> None:
        # Lord Howe Island moves its clocks by 30 minutes.
        zone = ZoneInfo("Australia/Lord_Howe")
        with pytest.raises(NonexistentTimeError, match=r"jumped from 02:00 to 02:30"):
            resolve(wall("2023-10-01 02:10"), zone)


class TestRepeatedHour:
    @pytest.mark.parametrize(("zone", "gap", "fall", "times", "passes"), ZONES)
    def test_order_keeps_the_file_in_time_order(
        self, zone: ZoneInfo, gap: str, fall: str, times: tuple[str, ...],
        passes: tuple[str, ...],
    ) -> None:
        # e.g. 02:30, 02:45, then 02:15: the 02:15 is the second pass.
        naive = [wall(f"{fall} {t}") for t in times]
        assert to_utc(naive, zone) == [utc(f"{fall} {p}") for p in passes]

    @pytest.mark.parametrize(("zone", "gap", "fall", "times", "passes"), ZONES)
    def test_earliest_latest_and_raise(
        self, zone: ZoneInfo, gap: str, fall: str, times: tuple[str, ...],
        passes: tuple[str, ...],
    ) -> None:
        naive = [wall(f"{fall} {t}") for t in times]
        hour = dt.timedelta(hours=1)
        first = [utc(f"{fall} {p}") for p in passes[:2]] + [utc(f"{fall} {passes[2]}") - hour]
        assert to_utc(naive, zone, "earliest") == first
        assert to_utc(naive, zone, "latest") == [when + hour for when in first]
        with pytest.raises(AmbiguousTimeError) as caught:
            to_utc(naive, zone, "raise")
        assert caught.value.index == 0
        assert str(caught.value).startswith(
            f"{fall} {times[0]} is ambiguous in {zone.key}: it happened twice, at "
            f"{fall}T{first[0]:%H:%M}:00Z and at {fall}T{first[0] + hour:%H:%M}:00Z")

    def test_order_refuses_a_time_before_both_passes(self) -> None:
        # 03:30 (after the repeat), then 02:15: neither pass keeps the file in order.
        with pytest.raises(AmbiguousTimeError) as caught:
            to_utc([wall("2023-10-29 03:30"), wall("2023-10-29 02:15")], BERLIN)
        assert caught.value.index == 1
        assert str(caught.value) == (
            "2023-10-29 02:15 is ambiguous in Europe/Berlin: it happened twice, at "
            "2023-10-29T00:15:00Z and at 2023-10-29T01:15:00Z, both before the previous time "
            "2023-10-29T02:30:00Z, so the order cannot tell which (choose the pass with "
            "--ambiguous earliest or latest)")

    def test_order_allows_equal_times_and_the_first_row_is_the_first_pass(self) -> None:
        times = [wall("2023-10-29 02:15"), wall("2023-10-29 02:15"), wall("2023-10-29 02:05")]
        assert to_utc(times, BERLIN) == [utc("2023-10-29 00:15"), utc("2023-10-29 00:15"),
                                         utc("2023-10-29 01:05")]

    def test_a_whole_night_in_order(self) -> None:
        # Every 10 minutes from 01:00 to 04:00 New York wall time on 2023-11-05, as a
        # platform writes them: the 01:xx hour twice. The UTC times are 10 minutes apart.
        walls = [wall("2023-11-05 00:50") + dt.timedelta(minutes=10 * n) for n in range(1, 7)]
        walls += walls[:6] + [wall("2023-11-05 02:00"), wall("2023-11-05 02:10")]
        resolved = to_utc(walls, NEW_YORK)
        steps = {later - earlier for earlier, later in zip(resolved, resolved[1:], strict=False)}
        assert steps == {dt.timedelta(minutes=10)}
        assert resolved[0] == utc("2023-11-05 05:00")


class TestLocalClock:
    def test_aware_times_are_converted_and_count_for_the_order(self) -> None:
        berlin_clock = LocalClock(BERLIN)
        assert berlin_clock(wall("2023-10-29 02:40+02:00")) == utc("2023-10-29 00:40")
        assert berlin_clock(wall("2023-10-29 02:20")) == utc("2023-10-29 01:20")

    def test_a_refused_time_is_not_remembered(self) -> None:
        berlin_clock = LocalClock(BERLIN, "order")
        berlin_clock(wall("2023-10-29 02:30"))
        with pytest.raises(LocalTimeError):
            berlin_clock(wall("2023-03-26 02:30"))
        assert berlin_clock.previous == utc("2023-10-29 00:30")

    def test_fallback_instead_of_an_error(self) -> None:
        berlin_clock = LocalClock(BERLIN, "order", fallback="earliest")
        berlin_clock(wall("2023-10-29 04:00"))
        assert berlin_clock(wall("2023-10-29 02:15")) == utc("2023-10-29 00:15")

    def test_an_unknown_rule_is_refused(self) -> None:
        with pytest.raises(ValueError, match="ambiguous: must be one of order, earliest"):
            LocalClock(BERLIN, "first")  # type: ignore[arg-type]


class TestAdapterTimes:
    def test_aware_reads_a_naive_time_and_refuses_a_gap(self) -> None:
        assert aware(wall("2024-03-04 09:35"), BERLIN) == utc("2024-03-04 08:35")
        assert aware(wall("2023-10-29 02:15"), BERLIN) == utc("2023-10-29 00:15")  # first pass
        offset = wall("2023-10-29 02:15+01:00")
        assert aware(offset, BERLIN) is offset
        with pytest.raises(ValueError, match="2023-03-12 02:30 does not exist in America/New_York"):
            aware(wall("2023-03-12 02:30"), NEW_YORK)

    def test_clock_uses_the_order_and_never_refuses_an_ambiguous_time(self) -> None:
        platform = clock(NEW_YORK)
        assert platform(wall("2023-11-05 01:50")) == utc("2023-11-05 05:50")
        assert platform(wall("2023-11-05 01:10")) == utc("2023-11-05 06:10")  # second pass
        platform(wall("2023-11-05 03:00"))
        assert platform(wall("2023-11-05 01:10")) == utc("2023-11-05 05:10")  # cannot tell
