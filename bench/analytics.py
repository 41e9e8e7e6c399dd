"""Analytics speed: every metric and breakdown of a 100,000-trade run.

    .venv/bin/python bench/analytics.py [--trades 100000] [--repeats 5]

Builds a migrated SQLite database in a temporary directory holding one run of
`--trades` closed trades (seeded: 12 symbols, both directions, regimes, tags),
then times, median of `--repeats`:
- read: loading the run's closed trades from the database into columns (the baseline);
- analytics: every registered metric with its confidence intervals and the
  probabilistic Sharpe, every breakdown (each dimension, hours and weekdays in
  America/New_York; each group with its intervals) and the calendar: the goal's scope;
- curves: the equity and drawdown points after every exit (100,000 JSON-ready
  records), timed on their own;
- downsampled curves: the same with `max_points` 1,000 (what the dashboard and run
  page ask for), and the size of both as JSON. Self-checks: at most 1,000 points,
  the equity peak, the drawdown trough and the first and last points as in the whole
  curve; a failed check exits non-zero.
The ratio analytics / read is the figure to compare across machines.
Goal: analytics at most 200 ms for 100,000 trades.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
from sqlalchemy import insert

# `python bench/analytics.py` puts bench/, not the project, on the path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.analytics.breakdowns import DIMENSIONS, breakdown, calendar
from backend.analytics.service import curves, metrics_document, trade_table
from backend.analytics.table import TradeTable
from backend.db.engine import Database
from backend.db.migrate import upgrade
from backend.db.models import Strategy, StrategyRun, Trade, User

S = 1_000_000_000


def build(db: Database, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    now = dt.datetime.now(dt.UTC)
    with db.session(write=True) as session:
        session.execute(
            insert(User).values(
                id=1,
                username="bench",
                password_hash="x",
                role="USER",
                is_active=True,
                timezone="UTC",
                created_at=now,
            )
        )
        session.execute(insert(Strategy).values(id=1, user_id=1, name="bench", created_at=now))
        session.execute(
            insert(StrategyRun).values(
                id=1,
                user_id=1,
                source="bench",
                key="bench",
                strategy_id=1,
                mode="backtest",
                status="completed",
                params={},
                initial_capital=1_000_000.0,
                created_at=now,
            )
        )
        start = 1_700_000_000 * S
        entries = start + np.cumsum(rng.integers(60, 3600, count)) * S
        holds = rng.integers(1, 7200, count) * S
        pnl = np.round(rng.normal(5, 200, count), 2)
        rows = [
            {
                "id": i + 1,
                "user_id": 1,
                "run_id": 1,
                "account": "",
                "symbol": f"S{i % 12:02d}",
                "direction": "long" if i % 2 else "short",
                "qty": 1.0,
                "max_position": 1.0,
                "entry_ts": int(entries[i]),
                "exit_ts": int(entries[i] + holds[i]),
                "entry_price": 100,
                "exit_price": 100 + pnl[i] / 2,
                "gross_pnl": pnl[i] + 1,
                "commission": 1,
                "net_pnl": pnl[i],
                "mfe": abs(pnl[i]) / 2 + 1,
                "mae": 1.5,
                "r_multiple": float(pnl[i] / 100),
                "regime_trend": ("up", "down", "range")[i % 3],
                "regime_volatility": ("low", "normal", "high")[(i // 3) % 3],
                "is_open": False,
                "tags": ["a"] if i % 5 == 0 else [],
                "extra": {},
                "updated_at": now,
            }
            for i in range(count)
        ]
        session.connection().execute(insert(Trade), rows)


def analytics(trades: TradeTable) -> dict[str, Any]:
    values = metrics_document(trades, 1_000_000.0)  # every metric, the intervals, the PSR
    zone = ZoneInfo("America/New_York")
    for by in DIMENSIONS:
        breakdown(trades, by, zone)
    calendar(trades, zone)
    return values


def expected_totals(count: int, seed: int) -> tuple[int, float]:
    """(trades, net P&L) of what `build` wrote, computed from the same draws."""
    rng = np.random.default_rng(seed)
    rng.integers(60, 3600, count)
    rng.integers(1, 7200, count)
    return count, float(np.round(rng.normal(5, 200, count), 2).sum())


CHART_POINTS = 1000


def check_downsampled(whole: dict[str, Any], small: dict[str, Any]) -> list[str]:
    """What the downsampled curve lost that it must keep (empty: nothing)."""
    full, kept = whole["equity"], small["equity"]
    failures = []
    if len(kept) > CHART_POINTS:
        failures.append(f"{len(kept)} points, more than {CHART_POINTS}")
    if min(p["drawdown"] for p in kept) != min(p["drawdown"] for p in full):
        failures.append("the drawdown trough differs")
    if max(p["equity"] for p in kept) != max(p["equity"] for p in full):
        failures.append("the equity peak differs")
    if (kept[0], kept[-1]) != (full[0], full[-1]):
        failures.append("the first or last point differs")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2,000 trades, one repeat, no goal")
    args = parser.parse_args()
    if args.smoke:
        args.trades, args.repeats = 2_000, 1
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(db.engine)
        build(db, args.trades, args.seed)
        reads, computes, charts, smalls = [], [], [], []
        values: dict[str, Any] = {}
        for _ in range(args.repeats):
            with db.session() as session:
                began = time.perf_counter()
                trades = trade_table(session, 1, [1], {1: "instance"})
                reads.append(time.perf_counter() - began)
            began = time.perf_counter()
            values = analytics(trades)
            computes.append(time.perf_counter() - began)
            began = time.perf_counter()
            whole = curves(trades, 1_000_000.0)
            charts.append(time.perf_counter() - began)
            began = time.perf_counter()
            small = curves(trades, 1_000_000.0, CHART_POINTS)
            smalls.append(time.perf_counter() - began)
        db.dispose()
    read, compute, chart, downsampled = (
        statistics.median(t) for t in (reads, computes, charts, smalls)
    )
    print(f"{args.trades:,} closed trades, median of {args.repeats}")
    print(f"read from SQLite      {read * 1e3:8.1f} ms  (baseline)")
    print(f"metrics + breakdowns  {compute * 1e3:8.1f} ms  ratio to read {compute / read:5.2f}")
    print(f"equity/drawdown curves {chart * 1e3:7.1f} ms  ratio to read {chart / read:5.2f}")
    print(f"  downsampled to {CHART_POINTS:,}  {downsampled * 1e3:7.1f} ms  "
          f"ratio to read {downsampled / read:5.2f}")
    sizes = [len(orjson.dumps(document)) for document in (whole, small)]
    print(f"  as JSON: {sizes[0] / 1e6:.2f} MB whole, {sizes[1] / 1e3:.0f} kB downsampled "
          f"({len(small['equity']):,} of {len(whole['equity']):,} points)")
    verdict = "met" if compute <= 0.2 * args.trades / 100_000 else "NOT met"
    if not args.smoke:
        print(f"goal (<= 200 ms per 100,000 trades): {verdict}")
    failures = [f"downsampled curve: {failure}" for failure in check_downsampled(whole, small)]
    count, net = expected_totals(args.trades, args.seed)
    got = (values.get("trade_count"), values.get("net_pnl"))
    if got[0] != count or abs(float(got[1] or 0) - net) > 0.005:
        failures.append(f"trade_count, net_pnl {got}; the trades built hold {count}, {net:.2f}")
    intervals = values.get("confidence", {}).get("intervals", {})
    if intervals.get("win_rate", {}).get("n") != count or len(intervals) != 5:
        failures.append(f"the run's intervals {sorted(intervals)} do not cover its {count} trades")
    for failure in failures:
        print(f"SELF-CHECK FAILED: {failure}")
    if failures:
        return 1
    print("self-checks: downsampled curve keeps the peak, the trough and both ends;"
          f" trade_count {count:,} and net_pnl {net:,.2f} as built")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
