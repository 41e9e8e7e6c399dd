"""The regime methods a user can choose, behind one interface. Pure.

Each method says how much history makes its tags exact: the tags in effect at a
time `t` are those of the last bar closed by `t` (bar `k`); they are the same as
with the whole stored history once at least `history_bars` bars closed at or
before `anchor(close of bar k)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from backend.market.resample import Columns
from backend.regimes import classify, learned
from backend.regimes.classify import RegimeSeries, RuleParams
from backend.regimes.learned import GmmParams

MethodName = Literal["rules", "gmm"]


@dataclass(frozen=True)
class Method:
    name: MethodName
    version: int
    params: RuleParams | GmmParams
    history_bars: int
    # (close_ns of the bar in effect, timeframe_s) -> the time its history is counted up to
    anchor: Callable[[int, int], int]
    # (bar columns, timeframe_s, since_ns) -> tags; bars closing before since_ns may go untagged
    classify: Callable[[Columns, int, int | None], RegimeSeries]


def _rules(params: RuleParams) -> Method:
    def run(columns: Columns, timeframe_s: int, since_ns: int | None) -> RegimeSeries:
        del since_ns  # cheap enough to tag every bar
        return classify.classify_series(
            columns["ts"],
            columns["open"],
            columns["high"],
            columns["low"],
            columns["close"],
            timeframe_s,
            params,
        )

    return Method(
        name="rules",
        version=classify.VERSION,
        params=params,
        history_bars=classify.history_bars(params),
        anchor=lambda close_ns, _timeframe_s: close_ns,
        classify=run,
    )


def _gmm(params: GmmParams) -> Method:
    def run(columns: Columns, timeframe_s: int, since_ns: int | None) -> RegimeSeries:
        return learned.classify_series(
            columns["ts"],
            columns["open"],
            columns["high"],
            columns["low"],
            columns["close"],
            timeframe_s,
            params,
            since_ns=since_ns,
        )

    return Method(
        name="gmm",
        version=learned.VERSION,
        params=params,
        history_bars=learned.history_bars(params),
        anchor=lambda close_ns, timeframe_s: learned.period_start(close_ns, timeframe_s, params),
        classify=run,
    )


METHODS: dict[str, Method] = {
    classify.METHOD: _rules(RuleParams()),
    learned.METHOD: _gmm(GmmParams()),
}
"""The methods by name, with their documented default parameters."""
