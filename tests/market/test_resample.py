"""The pure resampler: hand-checked buckets, and pandas' epoch-aligned resample as a cross-check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from backend.ingest.timestamps import parse_ts
from backend.market.resample import bucket_starts, resample

NS = 1_000_000_000
MINUTE = 60 * NS


def at(text: str) -> int:
    return parse_ts(text)


def minutes(first: str, offsets: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array([at(first) + m * MINUTE for m in offsets], dtype=np.int64)


class TestResample:
    def test_one_minute_to_five_minutes_by_hand(self) -> None:
        # 10:00..10:04 in one bucket (10:03 missing), 10:05, 10:07 in the next.
        ts = minutes("2023-12-15T10:00:00Z", [0, 1, 2, 4, 5, 7])
        out = resample(
            ts,
            [10.0, 11.0, 12.0, 13.0, 20.0, 21.0],
            [11.0, 15.0, 12.5, 13.5, 22.0, 21.5],
            [9.5, 10.5, 8.0, 12.0, 19.0, 18.0],
            [11.0, 12.0, 12.5, 13.25, 21.0, 20.5],
            [100.0, 5.0, np.nan, 7.0, np.nan, np.nan],
            300,
        )
        assert out["ts"].tolist() == [at("2023-12-15T10:00:00Z"), at("2023-12-15T10:05:00Z")]
        assert out["open"].tolist() == [10.0, 20.0]
        assert out["high"].tolist() == [15.0, 22.0]
        assert out["low"].tolist() == [8.0, 18.0]
        assert out["close"].tolist() == [13.25, 20.5]
        assert out["volume"][0] == 112.0  # the NaN is missing, not zero
        assert np.isnan(out["volume"][1])  # every volume missing: missing
        assert out["ts"].dtype == np.int64
        assert "bid_volume" not in out
        assert "ask_volume" not in out

    def test_gaps_leave_no_empty_buckets(self) -> None:
        ts = minutes("2023-12-15T10:00:00Z", [0, 20, 21])
        out = resample(ts, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0],
                       [1.0, 2.0, 3.0], 300)  # fmt: skip
        assert out["ts"].tolist() == [at("2023-12-15T10:00:00Z"), at("2023-12-15T10:20:00Z")]
        assert out["open"].tolist() == [1.0, 2.0]
        assert out["close"].tolist() == [1.0, 3.0]
        assert out["volume"].tolist() == [1.0, 5.0]

    def test_buckets_align_to_the_epoch_not_the_first_bar(self) -> None:
        # First bar at 10:03: it belongs to the 10:00 bucket, 10:05 opens the next.
        ts = minutes("2023-12-15T10:03:00Z", [0, 1, 2])
        out = resample(ts, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0],
                       None, 300)  # fmt: skip
        assert out["ts"].tolist() == [at("2023-12-15T10:00:00Z"), at("2023-12-15T10:05:00Z")]
        assert out["close"].tolist() == [2.0, 3.0]
        assert np.isnan(out["volume"]).all()  # no volume given at all

    def test_one_day_is_a_utc_day(self) -> None:
        ts = np.array(
            [
                at("2023-12-15T23:58:00+02:00"),  # 21:58 UTC on the 15th
                at("2023-12-15T23:59:00Z"),
                at("2023-12-16T00:00:00Z"),
                at("2023-12-16T01:00:00+01:00"),  # 00:00 UTC on the 16th, equal ts
            ],
            dtype=np.int64,
        )
        out = resample(ts, [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [0.5, 1.5, 2.5, 0.1],
                       [1.5, 2.5, 3.5, 4.5], [1.0, 1.0, 2.0, 2.0], 86400)  # fmt: skip
        assert out["ts"].tolist() == [at("2023-12-15T00:00:00Z"), at("2023-12-16T00:00:00Z")]
        assert out["open"].tolist() == [1.0, 3.0]
        assert out["high"].tolist() == [6.0, 8.0]
        assert out["low"].tolist() == [0.5, 0.1]
        assert out["close"].tolist() == [2.5, 4.5]
        assert out["volume"].tolist() == [2.0, 4.0]

    def test_none_volumes_in_object_arrays_are_missing(self) -> None:
        ts = minutes("2023-12-15T10:00:00Z", [0, 1, 5])
        prices = [1.0, 1.0, 1.0]
        out = resample(
            ts, prices, prices, prices, prices,
            np.array([3, None, None], dtype=object), 300,
            bid_volume=[1, 2, None], ask_volume=[None, None, None],
        )  # fmt: skip
        assert out["volume"][0] == 3.0
        assert np.isnan(out["volume"][1])
        assert out["bid_volume"][0] == 3.0
        assert np.isnan(out["bid_volume"][1])
        assert np.isnan(out["ask_volume"]).all()

    def test_empty_input_gives_empty_columns(self) -> None:
        out = resample([], [], [], [], [], [], 60, bid_volume=[])
        assert {name: len(values) for name, values in out.items()} == {
            "ts": 0, "open": 0, "high": 0, "low": 0, "close": 0, "volume": 0, "bid_volume": 0,
        }  # fmt: skip
        assert out["ts"].dtype == np.int64

    def test_same_timeframe_is_identity(self) -> None:
        ts = minutes("2023-12-15T10:00:00Z", [0, 1, 3])
        values = [1.0, 2.0, 3.0]
        out = resample(ts, values, values, values, values, values, 60)
        assert out["ts"].tolist() == ts.tolist()
        assert out["volume"].tolist() == values

    def test_bucket_starts(self) -> None:
        ts = [at("2023-12-15T10:04:59.999Z"), at("2023-12-15T10:05:00Z")]
        assert bucket_starts(ts, 300).tolist() == [
            at("2023-12-15T10:00:00Z"),
            at("2023-12-15T10:05:00Z"),
        ]

    def test_unsorted_input_is_refused_naming_the_place(self) -> None:
        ts = minutes("2023-12-15T10:00:00Z", [0, 2, 1])
        with pytest.raises(ValueError, match=r"sorted ascending, got ts_ns\[1\]=.* > ts_ns\[2\]"):
            resample(ts, [1.0] * 3, [1.0] * 3, [1.0] * 3, [1.0] * 3, None, 300)

    def test_mismatched_lengths_are_refused(self) -> None:
        ts = minutes("2023-12-15T10:00:00Z", [0, 1])
        with pytest.raises(
            ValueError, match=r"high must have the shape of ts_ns \(2,\), got \(3,\)"
        ):
            resample(ts, [1.0] * 2, [1.0] * 3, [1.0] * 2, [1.0] * 2, None, 300)

    @pytest.mark.parametrize("target", [0, -60, 1.5, True])
    def test_target_must_be_a_positive_integer(self, target: Any) -> None:
        with pytest.raises(ValueError, match="target_seconds must be a positive integer"):
            resample([at("2023-12-15T10:00:00Z")], [1.0], [1.0], [1.0], [1.0], None, target)


def random_bars(seed: int, count: int, step_s: int) -> dict[str, Any]:
    """Sorted bars every `step_s` seconds with random gaps and missing volumes."""
    rng = np.random.default_rng(seed)
    start = at("2023-12-15T21:17:00Z")
    slots = np.sort(rng.choice(count * 2, size=count, replace=False))
    ts = start + slots.astype(np.int64) * step_s * NS
    open_ = 4700 + rng.normal(0, 5, count).cumsum()
    close = open_ + rng.normal(0, 1, count)
    high = np.maximum(open_, close) + rng.exponential(0.5, count)
    low = np.minimum(open_, close) - rng.exponential(0.5, count)
    volume = rng.integers(0, 500, count).astype(np.float64)
    volume[rng.random(count) < 0.2] = np.nan
    bid = rng.integers(0, 250, count).astype(np.float64)
    bid[rng.random(count) < 0.5] = np.nan
    return {"ts": ts, "open": open_, "high": high, "low": low, "close": close,
            "volume": volume, "bid_volume": bid}  # fmt: skip


def pandas_resample(bars: dict[str, Any], target_seconds: int) -> Any:
    frame = pd.DataFrame(
        {name: values for name, values in bars.items() if name != "ts"},
        index=pd.to_datetime(bars["ts"], unit="ns", utc=True),
    )
    grouped = frame.resample(f"{target_seconds}s", origin="epoch", label="left", closed="left")
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(min_count=1),
            "bid_volume": grouped["bid_volume"].sum(min_count=1),
            "rows": grouped["open"].count(),
        }
    )
    return out[out["rows"] > 0]  # pandas emits empty bins inside the range; we do not


class TestAgainstPandas:
    @pytest.mark.parametrize(
        ("step_s", "target_s"),
        [(1, 5), (1, 60), (1, 300), (1, 420), (60, 3600), (60, 86400), (300, 900), (3600, 86400)],
    )
    def test_matches_pandas_epoch_resample(self, step_s: int, target_s: int) -> None:
        bars = random_bars(seed=target_s + step_s, count=20_000, step_s=step_s)
        out = resample(
            bars["ts"], bars["open"], bars["high"], bars["low"], bars["close"],
            bars["volume"], target_s, bid_volume=bars["bid_volume"],
        )  # fmt: skip
        expected = pandas_resample(bars, target_s)
        expected_ts = expected.index.as_unit("ns").asi8
        assert len(out["ts"]) == len(expected) > 1
        np.testing.assert_array_equal(out["ts"], expected_ts)
        for name in ("open", "high", "low", "close"):
            np.testing.assert_array_equal(out[name], expected[name].to_numpy(), err_msg=name)
        for name in ("volume", "bid_volume"):
            np.testing.assert_allclose(out[name], expected[name].to_numpy(), err_msg=name)
