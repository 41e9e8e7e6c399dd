"""How sure a number is: confidence intervals, the probabilistic and deflated Sharpe. Pure.

- Win rate: the Wilson score interval (exact formula, no resampling).
- Expectancy, profit factor, average R: a percentile bootstrap over the trades; the
  Sharpe ratio: the same over the daily returns it is defined on. Resamples come
  from one seeded matrix of uniforms, so the same data always gives the same
  interval. A sample of more than `MAX_DRAW` values is resampled `MAX_DRAW` at a
  time and the spread scaled by sqrt(MAX_DRAW / n) (the m-out-of-n bootstrap of
  Bickel, Goetze and van Zwet, 1997): the cost per interval is bounded, and for
  n <= MAX_DRAW it is the ordinary percentile bootstrap that scipy computes.
- The probabilistic Sharpe ratio (Bailey and Lopez de Prado, 2012) and the deflated
  Sharpe ratio (Bailey and Lopez de Prado, 2014) of the best of several trials.

An interval is `enough` only from `MIN_TRADES` trades (`MIN_DAYS` daily returns for
the Sharpe) and when both its bounds are finite; otherwise `reason` says why.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

LEVEL = 0.95
RESAMPLES = 1000
SEED = 20_141_205
MAX_DRAW = 200  # values per resample at most: above it the m-out-of-n bootstrap
MIN_TRADES = 30
MIN_DAYS = 60
PERIODS_PER_YEAR = 252
EULER_GAMMA = 0.5772156649015329
SIGNIFICANT = 0.95  # a deflated Sharpe below this: the best variant's edge is within luck
_NORMAL = NormalDist()

INTERVAL_METRICS = ("win_rate", "expectancy", "profit_factor", "expectancy_r", "sharpe")


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval of one metric, over `n` observations."""

    ci_low: float | None
    ci_high: float | None  # None: unbounded (or undefined, with the reason)
    n: int
    level: float
    method: str  # "wilson" or "bootstrap"
    enough: bool
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n, "level": self.level,
            "method": self.method, "enough": self.enough, "reason": self.reason,
        }  # fmt: skip


def _judged(
    low: float | None, high: float | None, n: int, method: str, minimum: int, what: str,
    level: float, unbounded: str | None = None,
) -> Interval:  # fmt: skip
    reason = None
    if n < minimum:
        reason = f"{n} {what}; an interval needs at least {minimum} to mean anything"
    elif unbounded is not None:
        reason = unbounded
    elif low is None or high is None:
        reason = "the interval is unbounded"
    return Interval(low, high, n, level, method, reason is None, reason)


def undefined(n: int, reason: str, method: str = "bootstrap", level: float = LEVEL) -> Interval:
    return Interval(None, None, n, level, method, False, reason)


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return _NORMAL.inv_cdf(0.5 + level / 2)


def wilson(wins: int, n: int, level: float = LEVEL) -> Interval:
    """Wilson score interval of a proportion wins / n (Wilson, 1927)."""
    if wins < 0 or wins > n:
        raise ValueError(f"wins must be in [0, n], got wins={wins} n={n}")
    if n == 0:
        return undefined(0, "no closed trades", "wilson", level)
    z = _z(level)
    p = wins / n
    scale = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z / scale * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    return _judged(low, high, n, "wilson", MIN_TRADES, "trades", level)


@lru_cache(maxsize=8)
def _draws(seed: int, resamples: int, draw: int) -> npt.NDArray[np.int64]:
    """The resampling matrix, 31-bit random integers: fixed for a seed, so the same data
    always gives the same interval."""
    matrix = np.random.default_rng(seed).integers(0, 1 << 31, (resamples, draw), dtype=np.int64)
    matrix.setflags(write=False)
    return matrix


class _Buffers(threading.local):
    """Per-thread scratch for the resamples: allocating ~2 MB per gather (page faults)
    cost more than the gather itself."""

    def __init__(self) -> None:
        self.rows = np.empty(RESAMPLES * MAX_DRAW, dtype=np.intp)
        self.values = np.empty(RESAMPLES * MAX_DRAW, dtype=np.float64)


_BUFFERS = _Buffers()


def resample_rows(
    n: int, *, seed: int = SEED, resamples: int = RESAMPLES, out: npt.NDArray[np.intp] | None = None
) -> npt.NDArray[np.intp]:
    """Row numbers of each resample of n values: (resamples, min(n, MAX_DRAW)).

    floor(d n / 2**31) for 31-bit d: uniform over 0..n-1 to within n / 2**31, exact integers.
    `out` (flat, at least resamples x MAX_DRAW) receives them; a new array without it.
    """
    if not 0 < n < 1 << 31:
        raise ValueError(f"n must be in [1, 2**31), got {n}")
    draw = min(n, MAX_DRAW)
    shape = (resamples, draw)
    rows = np.empty(shape, dtype=np.intp) if out is None else out[: resamples * draw].reshape(shape)
    np.multiply(_draws(seed, resamples, MAX_DRAW)[:, :draw], n, out=rows)
    rows >>= 31
    return rows


def _gather(values: Floats, rows: npt.NDArray[np.intp]) -> Floats:
    """values[rows] into this thread's scratch buffer (valid until the next gather)."""
    out = _BUFFERS.values[: rows.size].reshape(rows.shape)
    np.take(values, rows, out=out)
    return out


def _quantiles(stats: Floats, alpha: float) -> tuple[float, float]:
    """np.quantile's default (linear) at alpha and 1 - alpha, over a sorted copy."""
    ordered = np.sort(stats)
    bounds = []
    for q in (alpha, 1 - alpha):
        position = q * (ordered.size - 1)
        below = int(position)
        above = min(below + 1, ordered.size - 1)
        low, high = float(ordered[below]), float(ordered[above])
        fraction = position - below
        # inf - inf between two infinite resamples would be NaN: the bound is infinite
        bounds.append(low if fraction == 0 or low == high else low + (high - low) * fraction)
    return bounds[0], bounds[1]


def _percentile(
    estimate: float, stats: Floats, n: int, level: float
) -> tuple[float | None, float | None]:
    """Percentile bounds of resampled `stats`, spread scaled by sqrt(m / n) past MAX_DRAW.

    A bound that falls on an infinite resample (a profit factor with no loser) is None.
    """
    alpha = (1 - level) / 2
    low, high = _quantiles(stats, alpha)
    if n > MAX_DRAW:
        shrink = math.sqrt(MAX_DRAW / n)
        low, high = estimate + (low - estimate) * shrink, estimate + (high - estimate) * shrink
    return (low if math.isfinite(low) else None), (high if math.isfinite(high) else None)


def bootstrap_mean(
    values: Floats, level: float = LEVEL, *, seed: int = SEED, what: str = "trades",
    minimum: int = MIN_TRADES,
) -> Interval:  # fmt: skip
    """Percentile bootstrap interval of the mean of `values`."""
    n = int(values.size)
    if n == 0:
        return undefined(0, f"no {what}", level=level)
    sample = values[resample_rows(n, seed=seed)]
    low, high = _percentile(float(np.mean(values)), sample.mean(axis=1), n, level)
    return _judged(low, high, n, "bootstrap", minimum, what, level)


def bootstrap_sharpe(
    returns: Floats, level: float = LEVEL, *, seed: int = SEED,
    periods: int = PERIODS_PER_YEAR,
) -> Interval:  # fmt: skip
    """Percentile bootstrap interval of the annualised Sharpe ratio of daily `returns`."""
    n = int(returns.size)
    if n < 2:
        return undefined(n, "needs at least 2 daily returns", level=level)
    sample = returns[resample_rows(n, seed=seed)]
    spread = sample.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stats = np.where(spread > 0, sample.mean(axis=1) / spread, np.nan) * math.sqrt(periods)
    stats = stats[~np.isnan(stats)]
    if stats.size < 0.9 * RESAMPLES:
        return undefined(n, "the daily returns barely vary", level=level)
    estimate = float(np.mean(returns) / np.std(returns, ddof=1)) * math.sqrt(periods)
    low, high = _percentile(estimate, stats, n, level)
    return _judged(low, high, n, "bootstrap", MIN_DAYS, "daily returns", level)


# -- probabilistic and deflated Sharpe -------------------------------------------------


@dataclass(frozen=True)
class SharpeStats:
    """A return series' per-period Sharpe ratio (not annualised) and its moments."""

    sharpe: float
    skew: float
    kurtosis: float  # Pearson's (3 for a normal distribution), not the excess
    n: int

    @classmethod
    def of(cls, values: Floats) -> SharpeStats | None:
        """None when there are fewer than 3 values or they do not vary."""
        n = int(values.size)
        if n < 3:
            return None
        spread = float(np.std(values, ddof=1))
        if spread == 0 or not math.isfinite(spread):
            return None
        centred = values - np.mean(values)
        m2 = float(np.mean(centred**2))
        skew = float(np.mean(centred**3)) / m2**1.5
        kurtosis = float(np.mean(centred**4)) / m2**2
        return cls(float(np.mean(values)) / spread, skew, kurtosis, n)


def sharpe_std_error(stats: SharpeStats) -> float:
    """Standard error of an estimated Sharpe ratio under skew and fat tails (Mertens 2002)."""
    s = stats.sharpe
    variance = (1 - stats.skew * s + (stats.kurtosis - 1) / 4 * s * s) / (stats.n - 1)
    return math.sqrt(max(variance, 0.0))


def probabilistic_sharpe(stats: SharpeStats, benchmark: float = 0.0) -> float:
    """PSR: the probability that the true Sharpe exceeds `benchmark` (both per period).

    PSR = Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2)).
    """
    error = sharpe_std_error(stats)
    if error == 0:
        return 1.0 if stats.sharpe > benchmark else 0.0
    return _NORMAL.cdf((stats.sharpe - benchmark) / error)


def expected_max_sharpe(trials: int, variance: float) -> float:
    """The Sharpe ratio the best of `trials` zero-edge strategies reaches by luck alone.

    SR0 = sqrt(V) ((1 - gamma) Z(1 - 1/N) + gamma Z(1 - 1/(N e))), gamma Euler's constant.
    """
    if trials < 2:
        raise ValueError(f"trials must be >= 2, got {trials}")
    first = _NORMAL.inv_cdf(1 - 1 / trials)
    second = _NORMAL.inv_cdf(1 - 1 / (trials * math.e))
    return math.sqrt(variance) * ((1 - EULER_GAMMA) * first + EULER_GAMMA * second)


@dataclass(frozen=True)
class Deflated:
    """The deflated Sharpe ratio of the best of `trials` variants."""

    deflated_sharpe: float  # probability that the best variant's true Sharpe exceeds sr0
    best_sharpe: float  # per period, not annualised
    expected_max_sharpe: float  # sr0: the best Sharpe that luck gives
    trials: int
    trials_variance: float  # variance of the trials' Sharpe ratios
    n: int  # observations of the best variant
    significant: bool
    warning: str | None


def deflated_sharpe(best: SharpeStats, trial_sharpes: Floats) -> Deflated:
    """DSR (Bailey and Lopez de Prado, 2014): PSR of the best variant against SR0."""
    trials = int(trial_sharpes.size)
    variance = float(np.var(trial_sharpes, ddof=1))
    sr0 = expected_max_sharpe(trials, variance)
    value = probabilistic_sharpe(best, sr0)
    significant = value >= SIGNIFICANT
    warning = None
    if not significant:
        warning = (
            f"the best of {trials} variants has a Sharpe of {best.sharpe:.4f} per period; luck "
            f"alone gives the best of {trials} about {sr0:.4f}: deflated Sharpe {value:.2f}, below "
            f"{SIGNIFICANT}. Its edge is within what luck gives"
        )
    return Deflated(value, best.sharpe, sr0, trials, variance, best.n, significant, warning)


# -- what a run or a breakdown row carries ---------------------------------------------


def trade_intervals(
    net: Floats, r_multiple: Floats, level: float = LEVEL, *, seed: int = SEED
) -> dict[str, Interval]:
    """Intervals of win rate, expectancy, profit factor and average R of closed trades.

    `net` is each trade's net PnL (currency), `r_multiple` its R (NaN: unknown). One
    set of resamples of the trades serves all three bootstraps (the average R of a
    resample is over its trades with a known R), so a breakdown row costs a few
    column gathers.
    """
    n = int(net.size)
    intervals = {"win_rate": wilson(int((net > 0).sum()), n, level)}
    if n == 0:
        for name in ("expectancy", "profit_factor", "expectancy_r"):
            intervals[name] = undefined(0, "no closed trades", level=level)
        return intervals
    rows = resample_rows(n, seed=seed, out=_BUFFERS.rows)
    gains, losses = np.maximum(net, 0.0), -np.minimum(net, 0.0)
    sample = _gather(net, rows)
    total = sample.sum(axis=1)
    won = np.maximum(sample, 0.0, out=sample).sum(axis=1)
    lost = won - total
    low, high = _percentile(float(np.mean(net)), total / rows.shape[1], n, level)
    intervals["expectancy"] = _judged(low, high, n, "bootstrap", MIN_TRADES, "trades", level)
    intervals["profit_factor"] = _profit_factor(gains, losses, won, lost, n, level)
    known = ~np.isnan(r_multiple)
    count = int(known.sum())
    if not count:
        intervals["expectancy_r"] = undefined(0, "no trade has a known initial risk", level=level)
        return intervals
    estimate = float(np.mean(r_multiple[known]))
    if count == n:
        stats = _gather(r_multiple, rows).mean(axis=1)
    else:
        hits = _gather(known.astype(np.float64), rows).sum(axis=1)
        total = _gather(np.where(known, r_multiple, 0.0), rows).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats = total / hits
        stats = stats[hits > 0]
    low, high = _percentile(estimate, stats, count, level)
    intervals["expectancy_r"] = _judged(
        low, high, count, "bootstrap", MIN_TRADES, "trades with a known R", level
    )
    return intervals


def _profit_factor(
    gains: Floats, losses: Floats, won: Floats, lost: Floats, n: int, level: float
) -> Interval:
    total_lost = float(losses.sum())
    if total_lost == 0:
        return undefined(n, "no losing trades", level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        stats = np.where(lost > 0, won / np.where(lost > 0, lost, 1.0), np.inf)
    low, high = _percentile(float(gains.sum()) / total_lost, stats, n, level)
    unbounded = None
    if high is None:
        no_loser = int(np.isinf(stats).sum())
        unbounded = (
            f"in {no_loser} of {stats.size} resamples no trade lost: the upper bound is unbounded"
        )
    return _judged(low, high, n, "bootstrap", MIN_TRADES, "trades", level, unbounded)


def run_confidence(
    net: Floats,
    r_multiple: Floats,
    returns: Floats | str,
    level: float = LEVEL,
    *,
    seed: int = SEED,
    min_days: int = 20,
) -> dict[str, Any]:
    """The `confidence` part of a metrics document: every interval and the PSR.

    `returns` are the daily returns, or why there are none; the Sharpe needs `min_days`.
    """
    intervals = trade_intervals(net, r_multiple, level, seed=seed)
    psr: dict[str, Any] = {"value": None, "benchmark": 0.0, "n": 0, "reason": None}
    if isinstance(returns, str):
        intervals["sharpe"] = undefined(0, returns, level=level)
        psr["reason"] = returns
    else:
        psr["n"] = int(returns.size)
        if returns.size < min_days:
            reason = (
                f"annualised figures need at least {min_days} business days of returns; "
                f"this one spans {returns.size}"
            )
            intervals["sharpe"] = undefined(int(returns.size), reason, level=level)
        else:
            intervals["sharpe"] = bootstrap_sharpe(returns, level, seed=seed)
        stats = SharpeStats.of(returns)
        if stats is None:
            psr["reason"] = "needs at least 3 daily returns that vary"
        else:
            psr["value"] = probabilistic_sharpe(stats)
    return {
        "level": level,
        "intervals": {name: interval.as_dict() for name, interval in intervals.items()},
        "probabilistic_sharpe": psr,
    }
