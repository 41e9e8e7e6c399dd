"""The headline numbers: the registry's labels, the annualising rule, MFE efficiency,
the trade-by-trade drawdown against the chart, and downsampled curves (issue 24)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.analytics.metrics import (
    METRICS,
    MIN_ANNUALISED_DAYS,
    UNITS,
    ClosedTrade,
    RunData,
    compute_all,
    describe,
)
from backend.analytics.series import downsample, trade_curve
from tests.analytics.test_api import TRADES, _push, _round_trip
from tests.ingest.helpers import RUN

S = 1_000_000_000
MONDAY = dt.datetime(2024, 1, 8, 15, tzinfo=dt.UTC)


def _trade(day: int, net: str, **extra: Any) -> ClosedTrade:
    """A trade exiting `day` business days after Monday 2024-01-08, held a minute."""
    moment = MONDAY + dt.timedelta(days=day + 2 * (day // 5))  # skip weekends
    exit_ts = int(moment.timestamp()) * S
    return ClosedTrade(Decimal(net), Decimal(net), Decimal(0), exit_ts - 60 * S, exit_ts, **extra)


def _number(value: float | int | None) -> float:
    assert value is not None
    return float(value)


class TestRegistry:
    def test_every_metric_has_a_human_label_a_known_unit_and_a_description(self) -> None:
        rows = describe()
        assert [row["name"] for row in rows] == list(METRICS)
        labels = [row["label"] for row in rows]
        assert len(set(labels)) == len(labels), "two metrics share a label"
        for row in rows:
            name, label = row["name"], row["label"]
            assert label != name, name
            assert "_" not in label, name
            assert label[0].isupper(), label
            assert row["unit"] in UNITS
            assert row["description"].endswith("."), name
            assert len(row["description"]) <= 100, name  # one line
        # the labels the issue saw raw ("Avg hold seconds" over "1h 20m", "Sqn",
        # "Expectancy r"), and the two drawdowns named apart
        by_name = {row["name"]: row for row in rows}
        for name in ("avg_hold_seconds", "avg_hold_seconds_win", "avg_hold_seconds_loss",
                     "sqn", "expectancy_r", "max_drawdown_duration_days"):  # fmt: skip
            humanised = name.replace("_", " ").capitalize()
            assert by_name[name]["label"].lower() != humanised.lower(), name
        assert by_name["avg_hold_seconds"]["label"] == "Average holding time"
        assert by_name["sqn"]["label"] == "System quality number (SQN)"
        assert by_name["expectancy_r"]["label"] == "Expectancy in R"
        assert by_name["max_drawdown_trades"]["label"] == "Max drawdown (closed trades)"
        assert by_name["max_drawdown_amount"]["label"] == "Max drawdown amount (daily closes)"
        assert [r["name"] for r in rows if r["annualised"]] == [
            "sharpe", "sortino", "annual_return", "calmar",
        ]  # fmt: skip

    def test_definitions_endpoint_needs_a_login(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        assert client.get("/api/metrics/definitions").status_code == 401
        served = client.get("/api/metrics/definitions", headers=alice_key).json()
        assert served == describe()


class TestAnnualising:
    def test_a_three_day_run_has_no_annualised_figures_and_says_why(self) -> None:
        trades = [_trade(0, "100"), _trade(1, "-40"), _trade(2, "25")]
        values, reasons = compute_all(RunData(trades, initial_capital=10_000))
        reason = "annualised figures need at least 20 business days of returns; this one spans 3"
        for name in ("sharpe", "sortino", "annual_return", "calmar"):
            assert (values[name], reasons[name]) == (None, reason), name
        assert values["net_pnl"] == 85.0  # the rest is there
        assert values["max_drawdown"] == pytest.approx(-40 / 10_100, rel=1e-12)

    def test_from_the_threshold_on_they_are_computed(self) -> None:
        assert MIN_ANNUALISED_DAYS == 20
        nets = [f"{(-1) ** d * (10 + d)}" for d in range(MIN_ANNUALISED_DAYS)]
        trades = [_trade(d, net) for d, net in enumerate(nets)]
        values, reasons = compute_all(RunData(trades, initial_capital=10_000))
        # independently: daily returns of equity, compounded to 252 days
        equity = 10_000 + np.cumsum([float(n) for n in nets])
        returns = equity / np.concatenate(([10_000.0], equity[:-1])) - 1
        assert values["annual_return"] == pytest.approx(
            (equity[-1] / 10_000) ** (252 / MIN_ANNUALISED_DAYS) - 1, rel=1e-9
        )
        assert values["sharpe"] == pytest.approx(
            returns.mean() / returns.std(ddof=1) * np.sqrt(252), rel=1e-9
        )
        assert "sharpe" not in reasons
        assert "calmar" not in reasons
        shorter = compute_all(RunData(trades[:-1], initial_capital=10_000))[1]
        assert shorter["annual_return"].endswith("this one spans 19")


class TestEfficiency:
    def test_mfe_efficiency_is_a_ratio_of_sums_a_tiny_mfe_cannot_blow_it_up(self) -> None:
        trades = [
            _trade(0, "50", mfe=4.0, mae=1.0, captured=3.0),
            _trade(1, "-20", mfe=0.01, mae=2.0, captured=-2.0),  # a mean of ratios: -200 x
            _trade(2, "10", mfe=2.0, mae=0.5, captured=1.0),
            _trade(3, "5"),  # no excursions known: left out
        ]
        values, _ = compute_all(RunData(trades, initial_capital=10_000))
        assert values["mfe_efficiency"] == pytest.approx((3 - 2 + 1) / (4 + 0.01 + 2), rel=1e-12)
        mean_of_ratios = np.mean([3 / 4, -2 / 0.01, 1 / 2])
        assert mean_of_ratios < -60  # what was shown before
        assert -1.0 <= _number(values["mfe_efficiency"]) <= 1.0

    def test_bounds_on_random_trades(self) -> None:
        rng = np.random.default_rng(5)
        trades = []
        for day in range(200):
            mfe, mae = float(rng.exponential(2)), float(rng.exponential(2))
            captured = float(rng.uniform(-mae, mfe))  # exits between the extremes
            trades.append(_trade(day, "1", mfe=mfe, mae=mae, captured=captured))
        values, _ = compute_all(RunData(trades, initial_capital=10_000))
        mfe = sum(t.mfe or 0 for t in trades)
        mae = sum(t.mae or 0 for t in trades)
        assert -mae / mfe <= _number(values["mfe_efficiency"]) <= 1.0
        assert values["mfe_efficiency"] == pytest.approx(
            sum(t.captured or 0 for t in trades) / mfe, rel=1e-12
        )
        assert 0.0 <= _number(values["mae_efficiency"]) <= 1.0


class TestTradeDrawdown:
    def test_card_metric_is_the_curves_trough_deeper_than_daily_closes(self) -> None:
        # One day falls 300 and recovers 200 within itself: the daily close sees -100.
        trades = [_trade(0, "100"), _trade(1, "-300"), _trade(1, "200"), _trade(2, "50")]
        values, _ = compute_all(RunData(trades, initial_capital=1_000))
        assert values["max_drawdown_trades"] == -300.0
        assert values["max_drawdown_trades_pct"] == pytest.approx(-300 / 1_100, rel=1e-12)
        assert values["max_drawdown_amount"] == -100.0
        data = RunData(trades, initial_capital=1_000)
        assert data.curve.drawdown.min() / 1e8 == values["max_drawdown_trades"]

    def test_without_capital_from_a_peak_of_zero(self) -> None:
        values, reasons = compute_all(RunData([_trade(0, "-5"), _trade(1, "8"), _trade(2, "-4")]))
        assert values["max_drawdown_trades"] == -5.0
        assert reasons["max_drawdown_trades_pct"] == "the run has no initial_capital"


def _walk(count: int, seed: int) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(seed)
    net = rng.integers(-50_000_000_000, 52_000_000_000, count, dtype=np.int64)
    curve = trade_curve(net, 10_000_000 * 100_000_000)
    return curve.equity, curve.drawdown, curve.percent


class TestDownsampling:
    @pytest.mark.parametrize(("count", "max_points", "seed"), [
        (100_000, 1000, 1), (100_000, 16, 2), (12_345, 500, 3), (1001, 1000, 4),
    ])  # fmt: skip
    def test_peak_trough_ends_kept_exactly_within_the_budget(
        self, count: int, max_points: int, seed: int
    ) -> None:
        equity, drawdown, percent = _walk(count, seed)
        rows = downsample(count, max_points, (equity, drawdown, percent))
        assert len(rows) <= max_points
        assert list(rows) == sorted(set(rows.tolist()))  # in order, no repeats
        assert (rows[0], rows[-1]) == (0, count - 1)
        # independently of the bucketing: the extremes by a plain scan
        peak_row = max(range(count), key=lambda i: (equity[i], -i))
        trough_row = min(range(count), key=lambda i: (drawdown[i], i))
        assert peak_row in rows
        assert trough_row in rows
        assert equity[rows].max() == max(equity.tolist())
        assert drawdown[rows].min() == min(drawdown.tolist())
        assert np.nanmin(percent[rows]) == np.nanmin(percent)

    def test_small_series_are_left_whole(self) -> None:
        equity, drawdown, percent = _walk(300, 9)
        assert downsample(300, 300, (equity, drawdown, percent)).tolist() == list(range(300))


class TestThroughTheApi:
    def test_series_max_points_and_the_trough_against_the_metric(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        day = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
        events: list[dict[str, Any]] = []
        rng = np.random.default_rng(3)
        for n in range(60):  # sixty round trips, a minute apart
            entry = day + dt.timedelta(minutes=2 * n)
            out = float(100 + rng.integers(-8, 9) * 0.25)
            events += _round_trip(f"w{n}", _iso(entry), _iso(entry + dt.timedelta(minutes=1)),
                                  "buy", 1, 100.0, out)  # fmt: skip
        run_id = _push(client, alice_key, events, run={**RUN, "initial_capital": 1000})
        whole = client.get(f"/api/runs/{run_id}/series", headers=alice_key).json()
        assert (whole["points_total"], whole["downsampled"], len(whole["equity"])) == (60, False, 60)
        assert [p["n"] for p in whole["equity"]] == list(range(1, 61))
        small = client.get(f"/api/runs/{run_id}/series?max_points=16", headers=alice_key).json()
        assert small["downsampled"] is True
        assert len(small["equity"]) <= 16
        assert small["equity"][0] == whole["equity"][0]
        assert small["equity"][-1] == whole["equity"][-1]
        trough = min(p["drawdown"] for p in whole["equity"])
        assert min(p["drawdown"] for p in small["equity"]) == trough
        assert max(p["equity"] for p in small["equity"]) == max(p["equity"] for p in whole["equity"])
        for point in small["equity"]:  # each kept point is the real one
            assert point == whole["equity"][point["n"] - 1]
        metrics = client.get(f"/api/runs/{run_id}/metrics", headers=alice_key).json()
        assert metrics["max_drawdown_trades"] == trough
        # independently: the running peak of 1000 + cumulative PnL, in Decimal
        equity, peak, deepest = Decimal(1000), Decimal(1000), Decimal(0)
        for event in events[1::2]:
            equity += Decimal(str(event["price"])) - 100
            peak = max(peak, equity)
            deepest = min(deepest, equity - peak)
        assert Decimal(str(trough)) == deepest
        refused = client.get(f"/api/runs/{run_id}/series?max_points=3", headers=alice_key)
        assert refused.status_code == 422
        assert "max_points" in refused.text

    def test_portfolio_says_what_it_adds_up(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        _push(client, alice_key, TRADES, run={**RUN, "key": "live", "initial_capital": 1000})
        backtest = {**RUN, "key": "bt", "mode": "backtest", "initial_capital": 1000}
        _push(client, alice_key, TRADES, run=backtest, source="bt")
        everything = client.get("/api/portfolio", headers=alice_key).json()
        assert (everything["mode"], everything["runs_by_mode"]) == (None, {"live": 1, "backtest": 1})
        assert everything["metrics"]["net_pnl"] == 22.0
        live = client.get("/api/portfolio?mode=live&max_points=16", headers=alice_key).json()
        assert (live["mode"], live["runs_by_mode"], live["metrics"]["net_pnl"]) == (
            "live", {"live": 1}, 11.0,
        )  # fmt: skip

    def test_compare_pages_its_trade_lists(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        a = _push(client, alice_key, TRADES, run={**RUN, "key": "bt", "mode": "backtest"},
                  source="bt")  # fmt: skip
        b = _push(client, alice_key, TRADES, run={**RUN, "key": "live"}, source="live")
        first = client.get(f"/api/compare?a={a}&b={b}&limit=2", headers=alice_key).json()
        assert first["counts"] == {"matched": 3, "only_a": 0, "only_b": 0}
        assert (first["summary"]["matched"], len(first["matched"])) == (3, 2)
        rest = client.get(f"/api/compare?a={a}&b={b}&limit=2&offset=2", headers=alice_key).json()
        entries = [m["a"]["entry_ts"] for m in first["matched"] + rest["matched"]]
        assert entries == ["2024-03-08T14:30:00Z", "2024-03-11T13:30:00Z", "2024-03-12T18:00:00Z"]
        assert first["metrics"]["a"]["net_pnl"] == first["metrics"]["b"]["net_pnl"] == 11.0
        too_many = client.get(f"/api/compare?a={a}&b={b}&limit=1001", headers=alice_key)
        assert too_many.status_code == 422
        assert "limit" in too_many.text
        assert client.get(f"/api/compare?a={a}&b={b}&limit=2", headers=bob).status_code == 404
        assert client.get(f"/api/runs/{a}/series?max_points=16", headers=bob).status_code == 404


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
