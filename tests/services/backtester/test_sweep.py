"""Parameter sweeps: grids, parallel processes, ranking by a metric."""

from __future__ import annotations

import pytest

from services.backtester.engine import Backtest, BacktestConfig
from services.backtester.runner import RunSpec
from services.backtester.sinks import Instrument
from services.backtester.sweep import grid, parse_values, sweep
from services.backtester.synthetic import random_walk


class TestGrid:
    def test_values_are_lists_or_inclusive_ranges(self) -> None:
        assert parse_values("5,10, 20") == ["5", "10", "20"]
        assert parse_values("10:30:10") == ["10", "20", "30"]
        assert parse_values("0.5:1.5:0.5") == ["0.5", "1.0", "1.5"]
        with pytest.raises(ValueError, match="start:stop:step"):
            parse_values("1:2")

    def test_the_product_is_checked_against_the_strategy(self) -> None:
        combos = grid("ma_cross", {"fast": ["5", "10"], "slow": ["30", "60"]})
        assert [(c["fast"], c["slow"]) for c in combos] == [(5, 30), (5, 60), (10, 30), (10, 60)]
        assert combos[0]["qty"] == 1.0
        with pytest.raises(ValueError, match="fast: must be >= 1"):
            grid("ma_cross", {"fast": ["0"]})


def test_a_sweep_runs_every_combination_in_processes_and_ranks_them() -> None:
    bars = random_walk(60_000, seed=9)
    spec = RunSpec(data=bars, strategy="ma_cross", interval="1m",
                   instrument=Instrument("SYNTH", 1.0, 0.25))
    axes = {"fast": ["3", "5", "8"], "slow": ["20", "40"]}
    rows = sweep(spec, axes, metric="net_pnl", workers=2)
    assert len(rows) == 6
    assert [row.rank for row in rows] == [1, 2, 3, 4, 5, 6]
    scores = [row.metrics["net_pnl"] for row in rows]
    assert scores == sorted(scores, key=lambda s: -float(s or 0))
    # each row is what a single run with those parameters gives
    best = rows[0]
    alone = Backtest(bars, BacktestConfig("ma_cross", best.params, "1m",
                                          Instrument("SYNTH", 1.0, 0.25))).run()
    assert alone.metrics["net_pnl"] == best.metrics["net_pnl"]
    assert len(alone.closed_trades) == best.trades


def test_an_unknown_metric_is_refused() -> None:
    spec = RunSpec(data=random_walk(3_000, seed=1), strategy="ma_cross", interval="1m")
    with pytest.raises(ValueError, match="unknown metric 'fame'"):
        sweep(spec, {"fast": ["2"], "slow": ["5"]}, metric="fame", workers=1)


def test_the_best_variant_is_deflated_for_the_variants_tried() -> None:
    import numpy as np

    from backend.analytics.confidence import SharpeStats, deflated_sharpe
    from services.backtester.sweep import judge

    bars = random_walk(60_000, seed=9)
    spec = RunSpec(data=bars, strategy="ma_cross", interval="1m",
                   instrument=Instrument("SYNTH", 1.0, 0.25))
    rows = sweep(spec, {"fast": ["3", "5", "8"], "slow": ["20", "40"]}, workers=2)
    # each row's Sharpe is its trades' per-trade Sharpe, as a single run gives it
    alone = Backtest(bars, BacktestConfig("ma_cross", rows[0].params, "1m",
                                          Instrument("SYNTH", 1.0, 0.25))).run()
    expected = SharpeStats.of(np.array([float(t.net_pnl) for t in alone.closed_trades]))
    assert rows[0].sharpe == expected
    result = judge(rows)
    assert result is not None
    sharpes = np.array([row.sharpe.sharpe for row in rows if row.sharpe is not None])
    assert result.trials == sharpes.size == 6
    assert result.best_sharpe == sharpes.max()
    best = max((row.sharpe for row in rows if row.sharpe is not None), key=lambda s: s.sharpe)
    assert result == deflated_sharpe(best, sharpes)
    # a random walk has no edge: the best of six is within luck
    assert result.significant is False
    assert result.warning is not None
    assert judge(rows[:1]) is None
