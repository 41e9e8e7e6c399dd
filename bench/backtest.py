"""The backtester end to end: 5 million 1-second bars from CSV to the last fill pushed.

    .venv/bin/python bench/backtest.py [--rows 5000000] [--interval 1m] [--repeats 1]

Writes a CSV of `--rows` synthetic 1-second bars (a random walk on a 0.25 tick
grid; not timed), starts the real backend (`run_server.py` on a fresh SQLite
database, tests/live_server.py) and creates an API key. Then, timed:

- baseline: `pandas.read_csv` of the same file, nothing else;
- load: `load_csv` (chunked read, cleaning, sorting, de-duplication);
- backtest: the moving-average cross from that CSV through candles, matching,
  and pushing every order update, fill, market bar and run bar through the
  Python exporter to the backend, until the service acknowledged the last event
  (`run_backtest(..., push=...)` returns only then).

Prints each phase in seconds and as a ratio to the baseline. Goal: the whole
backtest (CSV to the last fill pushed) in at most 30 s. Exits 1 if it is slower
or if any event was rejected.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.backtester.data import load_csv, write_csv  # noqa: E402
from services.backtester.runner import PushTarget, RunSpec, run_backtest  # noqa: E402
from services.backtester.sinks import Instrument  # noqa: E402
from services.backtester.synthetic import random_walk  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

GOAL_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--interval", default="1m")
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="20,000 bars; checks, no goal")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.repeats = 20_000, 1

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bars.csv"
        started = time.perf_counter()
        write_csv(path, random_walk(args.rows, seed=42))
        size_mb = path.stat().st_size / 1e6
        print(f"{args.rows:,} 1-second bars, {size_mb:.0f} MB of CSV "
              f"(written in {time.perf_counter() - started:.1f} s, not timed)")

        baseline, loading, backtest = [], [], []
        failures = 0
        with LiveServer(Path(tmp) / "backend") as server:
            account = server.create_account("bench")
            for repeat in range(args.repeats):
                started = time.perf_counter()
                frame = pd.read_csv(path)
                baseline.append(time.perf_counter() - started)
                assert len(frame) == args.rows
                del frame

                started = time.perf_counter()
                bars, report = load_csv(path)
                loading.append(time.perf_counter() - started)
                assert report.rows_kept == args.rows
                del bars

                spec = RunSpec(
                    data=path,
                    strategy="ma_cross",
                    interval=args.interval,
                    params={"fast": args.fast, "slow": args.slow},
                    instrument=Instrument("BENCH", 5.0, 0.25),
                )
                push = PushTarget(server.url, account.api_key, run_key=f"bench-{repeat}",
                                  spool_dir=Path(tmp) / "spool")
                started = time.perf_counter()
                outcome = run_backtest(spec, push=push)
                backtest.append(time.perf_counter() - started)
                result, pushed = outcome.result, outcome.pushed or {}
                failures += int(pushed.get("rejected", 0))
                events = pushed.get("accepted", 0) + pushed.get("duplicates", 0)
                print(f"run {repeat + 1}: {result.candles:,} {args.interval} candles, "
                      f"{result.orders:,} orders, {len(result.fills):,} fills, "
                      f"{len(result.closed_trades):,} trades, {events:,} events pushed "
                      f"({pushed.get('rejected', 0)} rejected)")

    base = statistics.median(baseline)
    rows = [
        ("pandas.read_csv alone (baseline)", base),
        ("load_csv: chunks, cleaning, sort, dedupe", statistics.median(loading)),
        ("backtest: CSV -> last fill pushed", statistics.median(backtest)),
    ]
    print(f"\n| phase (median of {args.repeats}) | seconds | ratio to read_csv |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / base:.2f} |")
    total = statistics.median(backtest)
    verdict = "met" if total <= GOAL_S else "NOT met"
    print(f"\ngoal <= {GOAL_S:.0f} s from CSV to the last fill pushed: {verdict} ({total:.1f} s)")
    if failures:
        print(f"FAILED: {failures} events rejected")
    return 0 if (total <= GOAL_S or args.smoke) and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
