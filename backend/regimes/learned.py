"""The learned regime method: a Gaussian mixture over return and volatility features.

Walk-forward, so a tag never uses a bar that closed after it:

- Features of bar `i`, from its last `window` log returns `r` (bars `i-window..i`):
  `trend_t = sum(r) / (std(r) * sqrt(window))` (how many standard errors the
  drift is from zero) and `log_vol = log(std(r))` (std with ddof=1).
- Time is cut into refit periods of `refit_bars * timeframe` seconds, aligned to
  the UTC epoch. The model for the bars closing in the period that starts at `P`
  is fitted on the features of the last `fit_bars` bars that closed at or before
  `P` (standardised by their own mean and standard deviation), with a fixed
  `random_state`; with fewer than `min_fit_bars` such bars that period has no tags.
- Each mixture component gets labels from its mean: trend `up` when its mean
  `trend_t > trend_threshold`, `down` when `< -trend_threshold`, else `range`;
  volatility by where its mean `log_vol` falls among the fitted bars' `log_vol`:
  `low` when the share of them below it is `< vol_low`, `high` when `> vol_high`,
  else `normal`. A bar takes the labels of its most probable component.

`docs/regimes.md` is the reference.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from backend.market.resample import NS_PER_SECOND
from backend.regimes.classify import (
    MISSING,
    CodeArray,
    FloatArray,
    RegimeSeries,
    check_bars,
    rolling_std,
)

METHOD = "gmm"
VERSION = 1

# Floor of a window's return standard deviation: a perfectly flat window has none.
_MIN_STD = 1e-12
# Fits are small (thousands of 2-D rows): multi-threaded BLAS only adds overhead, several
# times the work on a busy machine. The thread limit is process-wide, so one fit loop
# at a time sets and restores it.
_FIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class GmmParams:
    """Parameters of the learned method; changing a default means a new `VERSION`."""

    window: int = 20
    n_components: int = 4
    fit_bars: int = 2000
    min_fit_bars: int = 500
    refit_bars: int = 500
    trend_threshold: float = 1.0
    vol_low: float = 0.25
    vol_high: float = 0.75
    covariance_type: Literal["full", "diag", "tied", "spherical"] = "full"
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValueError(f"window must be >= 2, got window={self.window}")
        if self.n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {self.n_components}")
        if not self.n_components <= self.min_fit_bars <= self.fit_bars:
            raise ValueError(
                "need n_components <= min_fit_bars <= fit_bars, got "
                f"n_components={self.n_components} min_fit_bars={self.min_fit_bars} "
                f"fit_bars={self.fit_bars}"
            )
        if self.refit_bars < 1:
            raise ValueError(f"refit_bars must be >= 1, got refit_bars={self.refit_bars}")
        if self.trend_threshold < 0:
            raise ValueError(f"trend_threshold must be >= 0, got {self.trend_threshold}")
        if not 0 <= self.vol_low <= self.vol_high <= 1:
            raise ValueError(
                "need 0 <= vol_low <= vol_high <= 1, "
                f"got vol_low={self.vol_low} vol_high={self.vol_high}"
            )


def history_bars(params: GmmParams) -> int:
    """Bars closed by a refit period's start that make its fit the same as with all history."""
    return params.fit_bars + params.window


def period_start(close_ns: int, timeframe_s: int, params: GmmParams) -> int:
    """Start (epoch ns) of the refit period a bar closing at `close_ns` belongs to."""
    period_ns = params.refit_bars * timeframe_s * NS_PER_SECOND
    return close_ns - close_ns % period_ns


def features(close: FloatArray, window: int) -> tuple[FloatArray, FloatArray]:
    """`trend_t` and `log_vol` of each bar (NaN for the first `window` bars)."""
    returns = np.full(len(close), np.nan)
    if len(close) > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            returns[1:] = np.diff(np.log(close))
    std = np.maximum(rolling_std(returns, window), _MIN_STD)
    total = np.full(len(close), np.nan)
    if len(close) >= window:
        total[window - 1 :] = np.lib.stride_tricks.sliding_window_view(returns, window).sum(axis=1)
    trend_t = total / (std * math.sqrt(window))
    log_vol = np.log(std)
    return trend_t, log_vol


def classify_series(
    ts_ns: npt.ArrayLike,
    open: npt.ArrayLike,  # noqa: ARG001 - the same signature as every method's
    high: npt.ArrayLike,  # noqa: ARG001
    low: npt.ArrayLike,  # noqa: ARG001
    close: npt.ArrayLike,
    timeframe_s: int,
    params: GmmParams | None = None,
    *,
    since_ns: int | None = None,
) -> RegimeSeries:
    """Tags of each bar from mixtures fitted walk-forward on earlier bars.

    With `since_ns`, only the tags in effect at `since_ns` or later are computed:
    bars that closed before the last one closed by then get none (their periods
    are not fitted, which saves time). The tags computed do not depend on it.
    """
    params = params or GmmParams()
    ts, (c,) = check_bars(ts_ns, (close,), timeframe_s)
    close_ns = ts + timeframe_s * NS_PER_SECOND
    trend_t, log_vol = features(c, params.window)
    table = np.column_stack([trend_t, log_vol])
    known = np.flatnonzero(~np.isnan(table).any(axis=1))
    trend = np.full(len(ts), MISSING, dtype=np.int8)
    volatility = np.full(len(ts), MISSING, dtype=np.int8)

    period_ns = params.refit_bars * timeframe_s * NS_PER_SECOND
    periods = close_ns // period_ns
    first = 0
    if since_ns is not None:  # the bar in effect at since_ns, if any has closed by then
        first = max(0, int(np.searchsorted(close_ns, since_ns, side="right")) - 1)
    from threadpoolctl import threadpool_limits  # with sklearn: imported on first use (~2 s)

    with _FIT_LOCK, threadpool_limits(limits=1):
        while first < len(ts):
            start = int(periods[first]) * period_ns
            stop = int(np.searchsorted(close_ns, start + period_ns, side="left"))
            # Known feature rows of bars closed at or before the period's start.
            cutoff = int(np.searchsorted(known, np.searchsorted(close_ns, start, side="right")))
            rows = known[max(0, cutoff - params.fit_bars) : cutoff]
            if len(rows) >= params.min_fit_bars:
                _label_period(table, rows, first, stop, params, trend, volatility)
            first = stop
    return RegimeSeries(
        ts_ns=ts,
        close_ns=close_ns,
        trend=trend,
        volatility=volatility,
        timeframe_s=timeframe_s,
        method=METHOD,
        version=VERSION,
        params=asdict(params),
    )


def _label_period(
    table: FloatArray,
    rows: npt.NDArray[np.intp],
    first: int,
    stop: int,
    params: GmmParams,
    trend: CodeArray,
    volatility: CodeArray,
) -> None:
    """Fit on `rows`, then label the bars `first..stop-1` whose features are known."""
    from sklearn.mixture import GaussianMixture  # imported on first use: ~2 s of start-up

    fit = table[rows]
    mean = fit.mean(axis=0)
    scale = np.maximum(fit.std(axis=0), _MIN_STD)
    model = GaussianMixture(
        n_components=params.n_components,
        covariance_type=params.covariance_type,
        random_state=params.random_state,
        # k-means++ seeding: the same quality here, without a full k-means run per fit.
        init_params="k-means++",
    ).fit((fit - mean) / scale)
    centres: FloatArray = model.means_
    centre_trend = centres[:, 0] * scale[0] + mean[0]
    component_trend = np.ones(params.n_components, dtype=np.int8)
    component_trend[centre_trend > params.trend_threshold] = 2
    component_trend[centre_trend < -params.trend_threshold] = 0
    # Where each component's mean volatility falls in the fitted sample's distribution.
    centre_vol = np.searchsorted(np.sort(fit[:, 1]), centres[:, 1] * scale[1] + mean[1])
    share_below = centre_vol / len(fit)
    component_vol = np.ones(params.n_components, dtype=np.int8)
    component_vol[share_below < params.vol_low] = 0
    component_vol[share_below > params.vol_high] = 2

    bars = first + np.flatnonzero(~np.isnan(table[first:stop]).any(axis=1))
    if len(bars):
        component = model.predict((table[bars] - mean) / scale)
        trend[bars] = component_trend[component]
        volatility[bars] = component_vol[component]
