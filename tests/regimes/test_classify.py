"""The rule-based method and the timeline, pure: no database."""

from __future__ import annotations

import numpy as np
import pytest

from backend.regimes.classify import (
    METHOD,
    VERSION,
    RegimeSeries,
    RuleParams,
    Tag,
    classify_series,
    history_bars,
    tags_at,
)
from backend.regimes.timeline import Segment, segments
from tests.regimes.bars import FIVE_MINUTES, NS, T0, Bars, bars_from_closes, random_walk

# fast 2, slow 4, ATR over 2 bars, NATR ranked against the 2 values before it.
SMALL = RuleParams(fast=2, slow=4, atr_window=2, trend_threshold=0.4, vol_lookback=3)


def hand_bars() -> Bars:
    """Eight 5m bars whose tags are worked out by hand in `TestHandChecked`."""
    bars = bars_from_closes([10, 11, 12, 13, 14, 14, 10, 6])
    high, low = bars.high.copy(), bars.low.copy()
    high[5:], low[5:] = [17, 14, 10], [13, 9.5, 5.5]
    return bars._replace(high=high, low=low)


def classify(bars: Bars, params: RuleParams | None = None) -> RegimeSeries:
    return classify_series(*bars, FIVE_MINUTES, params)


def close_time(index: int) -> int:
    return T0 + (index + 1) * FIVE_MINUTES * NS


def tags(series: RegimeSeries) -> list[tuple[str, str] | None]:
    return [None if tag is None else tag[:2] for tag in map(series.tag, range(len(series)))]


class TestHandChecked:
    def test_tags_of_each_bar(self) -> None:
        # True ranges 2 for bars 1-4 (wicks 0.5), then 4, 4.5, 4.5: ATR 2, 2, 2, 3, 4.25, 4.5.
        # Bar 4: SMA2 13.5 - SMA4 12.5 = 1, / ATR 2 = 0.5 > 0.4: up. NATR 2/14 is below the
        #   two before it (2/12, 2/13): rank 0: low.
        # Bar 5: (14 - 13.25) / 3 = 0.25: range. NATR 3/14 above both before: rank 1: high.
        # Bar 6: (12 - 12.75) / 4.25 = -0.18: range; NATR 0.425: high.
        # Bar 7: (8 - 11) / 4.5 = -0.67 < -0.4: down; NATR 0.75: high.
        series = classify(hand_bars(), SMALL)
        assert tags(series) == [None, None, None, None, ("up", "low"), ("range", "high"),
                                ("range", "high"), ("down", "high")]  # fmt: skip
        assert history_bars(SMALL) == 5
        assert series.tag(4) == Tag("up", "low", "rules", 1)
        assert (METHOD, VERSION) == ("rules", 1)
        assert series.params == {"fast": 2, "slow": 4, "atr_window": 2, "trend_threshold": 0.4,
                                 "vol_lookback": 3, "vol_low": 0.2, "vol_high": 0.8}  # fmt: skip

    def test_thresholds_are_strict(self) -> None:
        # Bar 4's score is exactly 0.5: not above a threshold of 0.5, so range.
        params = RuleParams(fast=2, slow=4, atr_window=2, trend_threshold=0.5, vol_lookback=3)
        assert tags(classify(hand_bars(), params))[4] == ("range", "low")

    def test_close_times_follow_the_timeframe(self) -> None:
        series = classify(hand_bars(), SMALL)
        assert series.close_ns.tolist() == [close_time(i) for i in range(8)]
        assert series.timeframe_s == FIVE_MINUTES


class TestSyntheticSeries:
    def test_a_steady_uptrend_is_up(self) -> None:
        series = classify(bars_from_closes(1000 + np.arange(600.0)))
        # (SMA20 - SMA50) = 15 for a slope of 1 a bar, ATR = 2: score 7.5. NATR = 2 / close
        # falls as the price rises, so it ranks below all of its lookback: low.
        first = history_bars(RuleParams()) - 1
        assert first == 513
        assert tags(series)[:first] == [None] * first
        assert set(tags(series)[first:]) == {("up", "low")}

    def test_a_steady_downtrend_is_down(self) -> None:
        series = classify(bars_from_closes(2000 - np.arange(600.0)))
        assert set(tags(series)[513:]) == {("down", "high")}

    def test_flat_noise_is_range(self) -> None:
        rng = np.random.default_rng(3)
        series = classify(bars_from_closes(100 + rng.uniform(-0.5, 0.5, 1200)))
        assert {tag[0] for tag in tags(series)[513:] if tag} == {"range"}

    def test_a_volatility_burst_is_high(self) -> None:
        # Calm: closes alternate 99.75 / 100.25, wicks 0.5: true range 1.5 every bar.
        # From bar 700 the wicks are 3: the ATR rises above everything in the lookback.
        closes = 100 + np.where(np.arange(800) % 2 == 0, -0.25, 0.25)
        wicks = np.where(np.arange(800) < 700, 0.5, 3.0)
        labels = tags(classify(bars_from_closes(closes, wick=wicks)))
        assert {tag[1] for tag in labels[513:700] if tag} == {"normal"}
        assert labels[700:720] == [("range", "high")] * 20

    def test_gaps_between_bars_are_not_filled(self) -> None:
        bars = bars_from_closes(1000 + np.arange(600.0))
        gapped = bars._replace(ts=bars.ts + np.where(np.arange(600) >= 300, 86_400 * NS, 0))
        assert tags(classify(gapped)) == tags(classify(bars))


class TestNoLookAhead:
    def test_tags_at_t_are_the_same_from_the_series_cut_at_t(self) -> None:
        bars = random_walk(3000, seed=11)
        full = classify(bars)
        times = [int(t) for t in np.random.default_rng(5).integers(T0, close_time(2999), 40)]
        times += [close_time(600), close_time(600) - 1, close_time(2999)]
        for t in times:
            closed = int(np.searchsorted(full.close_ns, t, side="right"))
            cut = classify(bars.head(closed))
            assert tags_at(cut, [t]) == tags_at(full, [t])
            assert tags(cut) == tags(full)[:closed]

    def test_changing_later_bars_changes_no_earlier_tag(self) -> None:
        bars = random_walk(1500, seed=12)
        wild = np.r_[bars.close[:900], bars.close[900:] * 3]
        changed = bars._replace(close=wild, high=np.maximum(bars.high, wild),
                                low=np.minimum(bars.low, wild))  # fmt: skip
        assert tags(classify(changed))[:900] == tags(classify(bars))[:900]
        assert tags(classify(changed))[900:] != tags(classify(bars))[900:]

    def test_a_bar_closing_exactly_at_t_counts(self) -> None:
        series = classify(hand_bars(), SMALL)
        up, high = Tag("up", "low", "rules", 1), Tag("range", "high", "rules", 1)
        assert tags_at(series, [close_time(4) - 1, close_time(4)]) == [None, up]
        assert tags_at(series, [close_time(5) - 1, close_time(5)]) == [up, high]
        assert tags_at(series, [T0, close_time(7) + 10**15]) == [
            None,
            Tag("down", "high", "rules", 1),
        ]

    def test_tags_need_only_their_history(self) -> None:
        # A series that starts later gives the same tags once a bar has its history.
        bars = random_walk(2000, seed=13)
        full, late = tags(classify(bars)), tags(classify(bars.tail(700)))
        needed = history_bars(RuleParams())
        assert late[: needed - 1] == [None] * (needed - 1)
        assert late[needed - 1 :] == full[700 + needed - 1 :]


class TestTagsAt:
    def test_unsorted_times_and_max_age(self) -> None:
        series = classify(hand_bars(), SMALL)
        down = Tag("down", "high", "rules", 1)
        late = close_time(7) + 600 * NS
        assert tags_at(series, [late, close_time(4)]) == [down, Tag("up", "low", "rules", 1)]
        assert tags_at(series, [late], max_age_ns=600 * NS) == [down]
        assert tags_at(series, [late], max_age_ns=600 * NS - 1) == [None]

    def test_an_empty_series_has_no_tags(self) -> None:
        empty = classify(bars_from_closes([]))
        assert tags_at(empty, [T0]) == [None]
        assert segments(empty) == []


class TestSegments:
    def test_runs_of_equal_tags_become_spans_from_close_to_close(self) -> None:
        series = classify(hand_bars(), SMALL)
        assert segments(series) == [
            Segment(close_time(4), close_time(5), "up", "low"),
            Segment(close_time(5), close_time(7), "range", "high"),
            Segment(close_time(7), None, "down", "high"),
        ]

    def test_spans_are_clipped_to_start_and_end(self) -> None:
        series = classify(hand_bars(), SMALL)
        start, end = close_time(5) + 1, close_time(7) + 60 * NS
        assert segments(series, start, end) == [
            Segment(start, close_time(7), "range", "high"),
            Segment(close_time(7), end, "down", "high"),
        ]
        assert segments(series, close_time(9)) == [Segment(close_time(9), None, "down", "high")]
        assert segments(series, None, close_time(4)) == []

    def test_every_time_in_a_segment_gets_its_tags(self) -> None:
        series = classify(random_walk(2000, seed=14))
        spans = segments(series)
        assert len(spans) > 10
        for span in spans:
            assert span.end_ns is None or span.end_ns > span.start_ns
            inside = [span.start_ns] + ([span.end_ns - 1] if span.end_ns else [])
            expected = Tag(span.trend, span.volatility, "rules", 1)
            assert tags_at(series, inside) == [expected] * len(inside)
        for before, after in zip(spans, spans[1:], strict=False):
            assert before.end_ns == after.start_ns
            assert before[2:] != after[2:]


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"fast": 50, "slow": 50}, "fast must be < slow, got fast=50 slow=50"),
            ({"atr_window": 0}, "atr_window must be >= 1, got atr_window=0"),
            ({"vol_lookback": 1}, "vol_lookback must be >= 2, got vol_lookback=1"),
            ({"vol_low": 0.9}, "need 0 <= vol_low <= vol_high <= 1, got vol_low=0.9 vol_high=0.8"),
            ({"trend_threshold": -1}, "trend_threshold must be >= 0, got -1"),
        ],
    )
    def test_bad_params(self, kwargs: dict[str, float], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            RuleParams(**kwargs)  # type: ignore[arg-type]

    def test_unsorted_bars(self) -> None:
        bars = hand_bars()
        ts = bars.ts.copy()
        ts[3] = ts[2]
        with pytest.raises(ValueError, match=r"ts_ns must be strictly ascending, got ts_ns\[2\]="):
            classify(bars._replace(ts=ts))

    def test_mismatched_lengths_and_bad_timeframe(self) -> None:
        bars = hand_bars()
        with pytest.raises(ValueError, match=r"must have the shape of ts_ns \(8,\), got \(7,\)"):
            classify(bars._replace(close=bars.close[:7]))
        with pytest.raises(ValueError, match="timeframe_s must be a positive integer, got 0"):
            classify_series(*bars, 0)
