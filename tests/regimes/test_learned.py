"""The learned method (Gaussian mixture, walk-forward), pure: no database."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from backend.regimes.classify import MISSING, RegimeSeries, tags_at
from backend.regimes.learned import (
    METHOD,
    VERSION,
    GmmParams,
    classify_series,
    features,
    history_bars,
    period_start,
)
from tests.regimes.bars import FIVE_MINUTES, NS, T0, Bars, random_walk, regime_blocks

PERIOD_NS = 500 * FIVE_MINUTES * NS  # refit_bars x 5 minutes


Blocks = tuple[Bars, npt.NDArray[np.int64]]


def classify(
    bars: Bars, params: GmmParams | None = None, since_ns: int | None = None
) -> RegimeSeries:
    return classify_series(*bars, FIVE_MINUTES, params, since_ns=since_ns)


def tags(series: RegimeSeries) -> list[tuple[str, str] | None]:
    return [None if tag is None else tag[:2] for tag in map(series.tag, range(len(series)))]


@pytest.fixture(scope="module")
def blocks() -> Blocks:
    """Six rounds of 400 bars each of calm up, volatile flat, calm down, calm flat."""
    return regime_blocks(6, 400, seed=7)


class TestFeatures:
    def test_trend_t_and_log_vol(self) -> None:
        # Returns alternate +2%/-1% (log): mean 0.005, sample std 0.0161 over 4 returns.
        returns = np.log([1.02, 0.99, 1.02, 0.99])
        close = 100 * np.exp(np.r_[0, np.cumsum(returns)])
        trend_t, log_vol = features(close, 4)
        std = np.std(returns, ddof=1)
        assert np.isnan(trend_t[:4]).all()
        assert trend_t[4] == pytest.approx(returns.sum() / (std * 2))
        assert log_vol[4] == pytest.approx(np.log(std))


class TestLabels:
    def test_blocks_of_known_regimes_get_their_labels(self, blocks: Blocks) -> None:
        bars, kinds = blocks
        series = classify(bars)
        assert (METHOD, VERSION) == ("gmm", 1)
        # Tags start with the first period whose start has 500 known feature rows closed
        # by it: period 2 (T0 + 1000 bars), whose first bar is bar 999 (it closes then).
        tagged = series.trend != MISSING
        assert int(np.argmax(tagged)) == 999
        # The first 20 bars of a block still have the block before in their feature window.
        settled = np.arange(len(kinds)) % 400 >= 20
        share = {}
        for kind in range(4):
            mask = tagged & settled & (kinds == kind)
            trend = np.bincount(series.trend[mask], minlength=3) / mask.sum()
            volatility = np.bincount(series.volatility[mask], minlength=3) / mask.sum()
            share[kind] = (trend.round(2).tolist(), volatility.round(2).tolist())
        # Trend shares (down, range, up) and volatility shares (low, normal, high) per block kind.
        assert share[0][0][2] > 0.85  # calm up: up
        assert share[1][0][1] > 0.9  # volatile flat: range ...
        assert share[1][1][2] > 0.9  # ... and high
        assert share[2][0][0] > 0.8  # calm down: down
        assert share[3][0][1] > 0.5  # calm flat: mostly range
        assert share[0][1][2] == share[2][1][2] == share[3][1][2] == 0.0  # calm is never high

    def test_fits_are_deterministic(self, blocks: Blocks) -> None:
        bars, _ = blocks
        first, second = classify(bars), classify(bars)
        assert np.array_equal(first.trend, second.trend)
        assert np.array_equal(first.volatility, second.volatility)
        tag = first.tag(1500)
        assert tag is not None
        assert (tag.method, tag.version) == ("gmm", 1)


class TestNoLookAhead:
    def test_tags_at_t_are_the_same_from_the_series_cut_at_t(self) -> None:
        bars = random_walk(3200, seed=21)
        full = classify(bars)
        close_ns = full.close_ns
        times = [T0 + 2 * PERIOD_NS, T0 + 2 * PERIOD_NS - 1, T0 + 3 * PERIOD_NS + 7 * NS,
                 int(close_ns[2600]), int(close_ns[-1])]  # fmt: skip
        for t in times:
            closed = int(np.searchsorted(close_ns, t, side="right"))
            cut = classify(bars.head(closed))
            assert tags_at(cut, [t]) == tags_at(full, [t])
            assert tags(cut) == tags(full)[:closed]
        assert tags_at(full, [close_ns[-1]])[0] is not None

    def test_since_skips_earlier_periods_only(self) -> None:
        bars = random_walk(2600, seed=22)
        full = classify(bars)
        since = int(full.close_ns[1700])
        later = classify(bars, since_ns=since)
        assert tags(later)[1700:] == tags(full)[1700:]
        assert tags(later)[:1700] == [None] * 1700
        assert tags(full)[1200] is not None
        # Between two closes, the bar in effect (the one that closed last) is tagged too.
        between = classify(bars, since_ns=since - 1)
        assert tags(between)[1699:] == tags(full)[1699:]
        assert tags(between)[1698] is None
        assert tags_at(between, [since - 1]) == tags_at(full, [since - 1]) != [None]

    def test_tags_need_only_their_history(self) -> None:
        # Started 3 periods later, the fits are the same once a period's start has
        # `fit_bars + window` bars closed before it.
        bars = random_walk(4200, seed=23)
        full = tags(classify(bars))
        late = tags(classify(bars.tail(1500)))
        assert history_bars(GmmParams()) == 2020
        # The slice holds bars 1500 on. Period 8 (starting when bar 3999 closes) is the
        # first whose start has 2020 of them closed (1500..3999); period 7 has 2000.
        assert late[3999 - 1500 :] == full[3999:]
        # Periods 3 and 4 have fewer than 500 known rows in the slice: no tags.
        assert late[:999] == [None] * 999
        assert late[999] is not None

    def test_period_start(self) -> None:
        assert period_start(T0 + PERIOD_NS, FIVE_MINUTES, GmmParams()) == T0 + PERIOD_NS
        assert period_start(T0 + PERIOD_NS - 1, FIVE_MINUTES, GmmParams()) == T0


class TestParams:
    def test_defaults(self) -> None:
        assert classify(random_walk(10, seed=1)).params == {
            "window": 20, "n_components": 4, "fit_bars": 2000, "min_fit_bars": 500,
            "refit_bars": 500, "trend_threshold": 1.0, "vol_low": 0.25, "vol_high": 0.75,
            "covariance_type": "full", "random_state": 0,
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"window": 1}, "window must be >= 2, got window=1"),
            ({"min_fit_bars": 3000}, "need n_components <= min_fit_bars <= fit_bars, got n_components=4 min_fit_bars=3000 fit_bars=2000"),
            ({"refit_bars": 0}, "refit_bars must be >= 1, got refit_bars=0"),
            ({"vol_low": 0.8}, "need 0 <= vol_low <= vol_high <= 1, got vol_low=0.8 vol_high=0.75"),
        ],
    )  # fmt: skip
    def test_bad_params(self, kwargs: dict[str, float], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            GmmParams(**kwargs)  # type: ignore[arg-type]

    def test_too_few_bars_have_no_tags(self) -> None:
        series = classify(random_walk(900, seed=2))
        assert (series.trend == MISSING).all()
        assert tags_at(series, [int(series.close_ns[-1])]) == [None]
