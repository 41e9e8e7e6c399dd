"""Confidence intervals, PSR and the deflated Sharpe, against independent computations.

- Wilson by the formula written out by hand (statsmodels is not installed; the formula
  is Wilson 1927, statsmodels' `proportion_confint(method="wilson")` computes the same).
- Bootstrap intervals against scipy.stats.bootstrap (percentile method) on the same data.
- PSR against quantstats' `probabilistic_sharpe_ratio` formula, reproduced here (quantstats
  is not installed: it pulls in yfinance, matplotlib and seaborn). quantstats/stats.py,
  `probabilistic_ratio`: sigma_sr = sqrt((1 + 0.5 SR^2 - skew SR + (kurt - 3) / 4 SR^2)
  / (n - 1)), psr = norm.cdf(SR / sigma_sr), SR the non-annualised Sharpe (std ddof=1).
  With Pearson's kurtosis that is Bailey and Lopez de Prado's sigma.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from backend.analytics import confidence
from backend.analytics.confidence import (
    MAX_DRAW,
    SharpeStats,
    bootstrap_mean,
    bootstrap_sharpe,
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
    run_confidence,
    trade_intervals,
    wilson,
)


def _scipy_interval(statistic: object, *samples: np.ndarray) -> tuple[float, float]:
    result = scipy.stats.bootstrap(
        samples, statistic, n_resamples=20_000, method="percentile", paired=True,
        vectorized=True, random_state=np.random.default_rng(7),
    )  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


class TestWilson:
    def test_against_the_formula_by_hand(self) -> None:
        # 13 wins of 21 trades at 95 %: z = 1.959963984540054
        z = 1.959963984540054
        p, n = 13 / 21, 21
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        interval = wilson(13, 21)
        assert interval.ci_low == pytest.approx(centre - half, abs=1e-12)
        assert interval.ci_high == pytest.approx(centre + half, abs=1e-12)
        assert interval.ci_low is not None
        assert interval.ci_high is not None
        assert (round(interval.ci_low, 4), round(interval.ci_high, 4)) == (0.4088, 0.7925)
        assert (interval.n, interval.method, interval.level) == (21, "wilson", 0.95)

    def test_too_few_trades_is_flagged_with_the_reason(self) -> None:
        interval = wilson(8, 13)
        assert interval.enough is False
        assert interval.reason == "13 trades; an interval needs at least 30 to mean anything"
        assert wilson(80, 130).enough is True

    def test_all_winners_stays_within_zero_and_one(self) -> None:
        interval = wilson(40, 40)
        assert interval.ci_high == pytest.approx(1.0, abs=1e-15)
        assert interval.ci_low == pytest.approx(40 / (40 + 1.959963984540054**2), abs=1e-12)

    def test_bad_input_is_refused(self) -> None:
        with pytest.raises(ValueError, match="wins must be in \\[0, n\\], got wins=5 n=3"):
            wilson(5, 3)


class TestBootstrap:
    def test_mean_against_scipy(self) -> None:
        net = np.random.default_rng(1).normal(12.0, 150.0, 200)
        ours = bootstrap_mean(net)
        low, high = _scipy_interval(lambda x, axis: np.mean(x, axis=axis), net)
        width = high - low
        assert abs(ours.ci_low - low) < 0.06 * width  # type: ignore[operator]
        assert abs(ours.ci_high - high) < 0.06 * width  # type: ignore[operator]

    def test_profit_factor_and_average_r_against_scipy(self) -> None:
        rng = np.random.default_rng(2)
        net = rng.normal(20.0, 100.0, 200)
        r = net / 50.0

        def profit_factor(x: np.ndarray, axis: int) -> np.ndarray:
            won = np.maximum(x, 0).sum(axis=axis)
            return won / -np.minimum(x, 0).sum(axis=axis)  # type: ignore[no-any-return]

        ours = trade_intervals(net, r)
        low, high = _scipy_interval(profit_factor, net)
        pf = ours["profit_factor"]
        assert abs(pf.ci_low - low) < 0.06 * (high - low)  # type: ignore[operator]
        assert abs(pf.ci_high - high) < 0.06 * (high - low)  # type: ignore[operator]
        low, high = _scipy_interval(lambda x, axis: np.mean(x, axis=axis), r)
        avg_r = ours["expectancy_r"]
        assert abs(avg_r.ci_low - low) < 0.06 * (high - low)  # type: ignore[operator]
        assert abs(avg_r.ci_high - high) < 0.06 * (high - low)  # type: ignore[operator]
        # expectancy from the same resamples
        low, high = _scipy_interval(lambda x, axis: np.mean(x, axis=axis), net)
        assert abs(ours["expectancy"].ci_low - low) < 0.06 * (high - low)  # type: ignore[operator]

    def test_sharpe_against_scipy(self) -> None:
        returns = np.random.default_rng(3).normal(0.001, 0.01, 200)

        def sharpe(x: np.ndarray, axis: int) -> np.ndarray:
            return x.mean(axis=axis) / x.std(axis=axis, ddof=1) * math.sqrt(252)  # type: ignore[no-any-return]

        ours = bootstrap_sharpe(returns)
        low, high = _scipy_interval(sharpe, returns)
        assert abs(ours.ci_low - low) < 0.06 * (high - low)  # type: ignore[operator]
        assert abs(ours.ci_high - high) < 0.06 * (high - low)  # type: ignore[operator]
        assert ours.n == 200
        assert ours.enough

    def test_past_max_draw_it_matches_scipy_too(self) -> None:
        # m-out-of-n: 200 draws a resample, the spread scaled by sqrt(200 / 3000)
        net = np.random.default_rng(4).normal(5.0, 80.0, 3000)
        assert net.size > MAX_DRAW
        ours = bootstrap_mean(net)
        low, high = _scipy_interval(lambda x, axis: np.mean(x, axis=axis), net)
        assert abs(ours.ci_low - low) < 0.1 * (high - low)  # type: ignore[operator]
        assert abs(ours.ci_high - high) < 0.1 * (high - low)  # type: ignore[operator]

    def test_intervals_shrink_as_n_grows(self) -> None:
        rng = np.random.default_rng(5)
        widths = []
        for n in (40, 160, 640, 2560, 10240):
            net = rng.normal(10.0, 100.0, n)
            interval = bootstrap_mean(net)
            widths.append(interval.ci_high - interval.ci_low)  # type: ignore[operator]
        assert widths == sorted(widths, reverse=True)
        assert widths[-1] < widths[0] / 10  # about 1/sqrt(256) = 1/16
        assert wilson(20, 40).ci_high - wilson(20, 40).ci_low > (  # type: ignore[operator]
            wilson(2000, 4000).ci_high - wilson(2000, 4000).ci_low  # type: ignore[operator]
        )

    def test_same_seed_same_interval_other_seed_other(self) -> None:
        net = np.random.default_rng(6).normal(3.0, 50.0, 120)
        r = net / 25
        assert trade_intervals(net, r) == trade_intervals(net.copy(), r.copy())
        other = trade_intervals(net, r, seed=99)
        assert other["expectancy"].ci_low != trade_intervals(net, r)["expectancy"].ci_low

    def test_profit_factor_without_losers_in_many_resamples_is_unbounded(self) -> None:
        net = np.array([10.0] * 39 + [-1.0])  # one loser in 40: ~36 % of resamples have none
        pf = trade_intervals(net, np.full(40, np.nan))["profit_factor"]
        assert pf.ci_high is None
        assert pf.enough is False
        assert pf.reason is not None
        assert pf.reason.startswith("in ")
        assert pf.reason.endswith("resamples no trade lost: the upper bound is unbounded")

    def test_no_trades_and_no_r(self) -> None:
        empty = trade_intervals(np.array([]), np.array([]))
        assert {k: (v.n, v.reason) for k, v in empty.items()} == {
            "win_rate": (0, "no closed trades"), "expectancy": (0, "no closed trades"),
            "profit_factor": (0, "no closed trades"), "expectancy_r": (0, "no closed trades"),
        }  # fmt: skip
        no_r = trade_intervals(np.array([1.0, -1.0]), np.array([np.nan, np.nan]))
        assert no_r["expectancy_r"].reason == "no trade has a known initial risk"

    def test_average_r_over_the_trades_that_have_one(self) -> None:
        rng = np.random.default_rng(8)
        net = rng.normal(5.0, 50.0, 200)
        r = net / 10
        r[::4] = np.nan
        interval = trade_intervals(net, r)["expectancy_r"]
        assert interval.n == 150
        mean = float(np.nanmean(r))
        assert interval.ci_low < mean < interval.ci_high  # type: ignore[operator]


class TestProbabilisticSharpe:
    def test_against_quantstats_formula(self) -> None:
        returns = np.random.default_rng(9).standard_t(5, 300) * 0.01 + 0.0008
        sr = float(np.mean(returns) / np.std(returns, ddof=1))
        skew = float(scipy.stats.skew(returns))
        kurt = float(scipy.stats.kurtosis(returns, fisher=False))  # Pearson's
        sigma = math.sqrt((1 + 0.5 * sr**2 - skew * sr + (kurt - 3) / 4 * sr**2) / (300 - 1))
        expected = float(scipy.stats.norm.cdf(sr / sigma))
        stats = SharpeStats.of(returns)
        assert stats is not None
        assert (stats.skew, stats.kurtosis) == pytest.approx((skew, kurt), rel=1e-12)
        assert probabilistic_sharpe(stats) == pytest.approx(expected, rel=1e-12)

    def test_hand_checked_value(self) -> None:
        # SR 0.1 a day over 101 days, normal moments: z = 0.1 * 10 / sqrt(1 + 0.005) = 0.99751
        stats = SharpeStats(0.1, 0.0, 3.0, 101)
        assert probabilistic_sharpe(stats) == pytest.approx(
            scipy.stats.norm.cdf(1 / math.sqrt(1.005)), rel=1e-12
        )
        assert probabilistic_sharpe(stats, benchmark=0.1) == pytest.approx(0.5)

    def test_run_confidence_has_psr_and_a_sharpe_interval(self) -> None:
        rng = np.random.default_rng(10)
        returns = rng.normal(0.002, 0.01, 80)
        net = rng.normal(10.0, 40.0, 120)
        document = run_confidence(net, net / 20, returns)
        assert document["level"] == 0.95
        assert set(document["intervals"]) == {
            "win_rate", "expectancy", "profit_factor", "expectancy_r", "sharpe",
        }  # fmt: skip
        stats = SharpeStats.of(returns)
        assert stats is not None
        assert document["probabilistic_sharpe"] == {
            "value": probabilistic_sharpe(stats), "benchmark": 0.0, "n": 80, "reason": None,
        }  # fmt: skip
        short = run_confidence(net, net / 20, returns[:12])
        assert short["intervals"]["sharpe"]["reason"] == (
            "annualised figures need at least 20 business days of returns; this one spans 12"
        )
        none = run_confidence(net, net / 20, "the run has no initial_capital")
        assert none["intervals"]["sharpe"]["reason"] == "the run has no initial_capital"
        assert none["probabilistic_sharpe"]["value"] is None


class TestDeflatedSharpe:
    def test_expected_max_sharpe_formula(self) -> None:
        # N = 100 trials, V = 0.01: sqrt(V) ((1 - g) Z(0.99) + g Z(1 - 1/(100 e)))
        g = 0.5772156649015329
        expected = 0.1 * ((1 - g) * scipy.stats.norm.ppf(0.99)
                          + g * scipy.stats.norm.ppf(1 - 1 / (100 * math.e)))  # fmt: skip
        assert expected_max_sharpe(100, 0.01) == pytest.approx(expected, rel=1e-12)

    @staticmethod
    def _sweep(edge: float, variants: int = 50, days: int = 500) -> tuple[SharpeStats, np.ndarray]:
        rng = np.random.default_rng(11)
        returns = rng.normal(0.0, 0.01, (variants, days))
        returns[0] += edge  # variant 0 has the edge (0: every variant is noise)
        sharpes = returns.mean(axis=1) / returns.std(axis=1, ddof=1)
        best = SharpeStats.of(returns[int(np.argmax(sharpes))])
        assert best is not None
        return best, sharpes

    def test_pure_noise_best_variant_is_not_significant(self) -> None:
        best, sharpes = self._sweep(0.0)
        # the best of 50 noise strategies looks good on its own...
        assert probabilistic_sharpe(best) > 0.95
        # ...but not once the 50 trials are counted
        result = deflated_sharpe(best, sharpes)
        assert result.trials == 50
        assert result.trials_variance == pytest.approx(float(np.var(sharpes, ddof=1)))
        assert result.significant is False
        assert result.deflated_sharpe < 0.95
        assert result.warning is not None
        assert "within what luck gives" in result.warning

    def test_a_real_edge_is_significant(self) -> None:
        best, sharpes = self._sweep(0.004)  # a daily Sharpe of 0.4
        result = deflated_sharpe(best, sharpes)
        assert result.significant is True
        assert result.deflated_sharpe > 0.99
        assert result.warning is None
        assert result.best_sharpe == pytest.approx(float(sharpes.max()), rel=1e-12)

    def test_needs_two_trials(self) -> None:
        with pytest.raises(ValueError, match="trials must be >= 2, got 1"):
            expected_max_sharpe(1, 0.01)


def test_resamples_are_a_fixed_matrix() -> None:
    first = confidence.resample_rows(50)
    assert first.shape == (1000, 50)
    assert (first == confidence.resample_rows(50)).all()
    assert first.min() >= 0
    assert first.max() <= 49
