"""Parameter sweeps: every combination of a grid, in parallel processes, ranked by a metric.

With `top=None` each combination is pushed as its own run while it runs; with
`top=N` every combination runs locally first and only the best N are run again
and pushed. Ranking uses the service's own metric functions on the locally
rebuilt trades, so a sweep ranks runs as the journal will show them.

`judge` deflates the best variant's Sharpe for the number of variants tried
(Bailey and Lopez de Prado 2014, backend/analytics/confidence.py): each variant's
Sharpe is per trade (mean / stdev of its trades' net PnL), which needs no calendar
span and compares variants on the same bars.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from backend.analytics.confidence import Deflated, SharpeStats, deflated_sharpe
from services.backtester.data import Seconds
from services.backtester.registry import get
from services.backtester.runner import MAX_RUN_KEY, PushTarget, RunSpec, load, run_backtest

# The bars each worker process runs on: inherited when forked, loaded once when spawned.
_SECONDS: Seconds | None = None


@dataclass(frozen=True)
class SweepRow:
    params: dict[str, Any]
    metrics: dict[str, float | int | None]
    trades: int
    rank: int = 0
    run_key: str | None = None
    sharpe: SharpeStats | None = None  # per trade; None: fewer than 3 trades, or no spread

    def score(self, metric: str) -> float | None:
        value = self.metrics.get(metric)
        return None if value is None else float(value)


def parse_values(text: str) -> list[str]:
    """`5,10,20` (a list) or `5:50:5` (start:stop:step, stop included) as strings."""
    if ":" in text and "," not in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"a range is start:stop:step, got {text!r}")
        start, stop, step = (float(p) for p in parts)
        if step <= 0 or stop < start:
            raise ValueError(f"a range needs step > 0 and stop >= start, got {text!r}")
        count = int((stop - start) / step + 1e-9) + 1
        values = [start + i * step for i in range(count)]
        integral = all(float(p).is_integer() for p in parts)
        return [str(int(v)) if integral else repr(round(v, 10)) for v in values]
    return [item.strip() for item in text.split(",") if item.strip()]


def grid(strategy: str, axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of `axes`, each value checked against the strategy's parameters."""
    cls = get(strategy)
    for name, values in axes.items():
        if not values:
            raise ValueError(f"grid: {name} has no values")
    names = list(axes)
    combos = []
    for values in itertools.product(*(axes[name] for name in names)):
        combos.append(cls(dict(zip(names, values, strict=True))).params)
    return combos


def sweep(
    spec: RunSpec,
    axes: Mapping[str, Sequence[Any]],
    *,
    metric: str = "net_pnl",
    top: int | None = None,
    push: PushTarget | None = None,
    workers: int | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[SweepRow]:
    """Run every combination; rows best first by `metric` (undefined values last)."""
    global _SECONDS
    combos = grid(spec.strategy, axes)
    seconds, _report = load(spec.data)
    workers = max(1, min(workers or os.cpu_count() or 1, len(combos)))
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods else "spawn"
    context = multiprocessing.get_context(method)
    _SECONDS = seconds
    initargs = (None,) if method == "fork" else (seconds,)
    push_all = push if top is None else None
    rows: list[SweepRow] = []
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=initargs
        ) as pool:
            futures = [pool.submit(_run_one, spec, params, push_all) for params in combos]
            for done, future in enumerate(as_completed(futures), start=1):
                rows.append(future.result())
                if on_done is not None:
                    on_done(done, len(combos))
            ranked = _rank(rows, metric)
            if push is not None and top is not None:
                best = ranked[:top]
                again = [pool.submit(_run_one, spec, row.params, push) for row in best]
                pushed = [future.result() for future in again]
                keys = {_key(row.params): row.run_key for row in pushed}
                ranked = [
                    replace(row, run_key=keys.get(_key(row.params), row.run_key))
                    for row in ranked
                ]
    finally:
        _SECONDS = None
    return ranked


def judge(rows: Sequence[SweepRow]) -> Deflated | None:
    """The deflated Sharpe of the best variant by per-trade Sharpe; None under 2 variants
    with a Sharpe."""
    stats = [row.sharpe for row in rows if row.sharpe is not None]
    if len(stats) < 2:
        return None
    best = max(stats, key=lambda s: s.sharpe)
    return deflated_sharpe(best, np.array([s.sharpe for s in stats]))


def _key(params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


def _rank(rows: list[SweepRow], metric: str) -> list[SweepRow]:
    if rows and metric not in rows[0].metrics:
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(rows[0].metrics)}")

    def order(row: SweepRow) -> tuple[int, float]:
        score = row.score(metric)
        return (1, 0.0) if score is None else (0, -score)

    ordered = sorted(rows, key=order)
    return [replace(row, rank=n) for n, row in enumerate(ordered, start=1)]


def _init_worker(seconds: Seconds | None) -> None:
    global _SECONDS
    if seconds is not None:
        _SECONDS = seconds


def _run_one(spec: RunSpec, params: dict[str, Any], push: PushTarget | None) -> SweepRow:
    assert _SECONDS is not None, "the worker has no bars"
    run_spec = replace(spec, params=params)
    if push is not None and push.run_key is not None:
        suffix = "-".join(f"{k}{v}" for k, v in sorted(params.items()))
        if len(push.run_key) + len(suffix) >= MAX_RUN_KEY:  # many parameters: a digest of them
            suffix = hashlib.blake2b(suffix.encode(), digest_size=6).hexdigest()
        push = replace(push, run_key=f"{push.run_key}-{suffix}")
    outcome = run_backtest(run_spec, push=push, seconds=_SECONDS)
    result = outcome.result
    return SweepRow(
        params=dict(result.params),
        metrics=result.metrics,
        trades=len(result.closed_trades),
        run_key=outcome.run_key,
        sharpe=SharpeStats.of(np.array([float(t.net_pnl) for t in result.closed_trades])),
    )
