"""Derivation in process: where a position's re-derivation spends its time, stage by stage.

    .venv/bin/python bench/derive.py [--fills 200000] [--symbols 10] [--big] [--smoke]
                                     [--profile FILE] [--database-url URL]

A migrated database (a temporary SQLite file unless `--database-url`) holds one backtest
run: `--fills` fills over `--symbols` symbols (round trips of two to five fills: scale-ins,
partial exits, a tenth reversing through zero), one-minute market bars under them (so
excursions are measured), and a stop order for each trade's entry (so initial risk and R
are). Every position is marked pending from the start, as after a push, and the real
pipeline drains them: `DerivationRunner.derive_pending()` with `prepare_rebuild`, the
deriver the server runs. Timed:

1. the full derivation, in fills/s;
2. each stage of the rebuild (backend/trades/rebuild.py's `STAGES` timers): reading,
   the kernel, excursions, regimes, risk, writing;
3. a re-derivation of one position (`--big`: 1,000,000 fills in one symbol) from its first
   fill, as after `PATCH /api/instruments`; the longest single write transaction is
   reported (the write lock is held only that long);
4. the raw ceiling, measured in the same run: stdlib `sqlite3` `executemany` of the same
   trade and part rows into a copy of the tables.

Checks (exit 1 on failure): the stored trades of every position equal a from-scratch
`reconstruct()` of its stored fills (count, ids, exit times, quantities, net P&L); each
trade's excursions are within its bars' range. Goals (docs/benchmarks.md): at least
100,000 fills/s, and a 1,000,000-fill position re-derived in at most 10 s.
"""

from __future__ import annotations

import argparse
import cProfile
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from backend.db.engine import Database  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.models import Strategy, StrategyRun, Trade, User  # noqa: E402
from backend.db.models.strategy import RunMode  # noqa: E402
from backend.ingest.derivations import DerivationRunner  # noqa: E402
from backend.runtime import tune_gc  # noqa: E402
from backend.trades import kernel, repository  # noqa: E402
from backend.trades import rebuild as rebuilding  # noqa: E402
from backend.trades.rebuild import prepare_rebuild  # noqa: E402
from backend.trades.reconstruct import Fill, reconstruct  # noqa: E402

ACCOUNT, SOURCE = "SIM", "bench"
TICK, COMMISSION, MULTIPLIER = 0.25, 0.37, 5.0
BASE_NS = 1_700_000_000_000_000_000
MINUTE_NS = 60_000_000_000
FILLS_PER_S_GOAL = 100_000
BIG_FILLS, BIG_GOAL_S = 1_000_000, 10.0


@dataclass
class Position:
    symbol: str
    signed: np.ndarray  # +qty buys, -qty sells
    price: np.ndarray
    ts: np.ndarray


def simulate(rng: np.random.Generator, symbol: str, n: int, start: float) -> Position:
    """`n` fills of one symbol from flat: about four a trade, a tenth reversing, flat at the end."""
    action, size = rng.random(n).tolist(), rng.integers(1, 6, n).tolist()
    long = (rng.random(n) < 0.5).tolist()
    price = start + np.cumsum(rng.integers(-4, 5, n)) * TICK
    ts = BASE_NS + np.cumsum(rng.integers(1, 40, n)) * 1_000_000_000
    signed = np.empty(n, dtype=np.int64)
    position = 0
    for i in range(n):
        qty, x = size[i], action[i]
        if i == n - 1 and position != 0:
            change = -position
        elif position == 0:
            change = qty if long[i] else -qty
        else:
            way = 1 if position > 0 else -1
            if x < 0.3:
                change = way * qty
            elif x < 0.55 and abs(position) > 1:
                change = -way * min(qty, abs(position) - 1)
            elif x < 0.93:
                change = -position
            else:
                change = -position - way * qty
        position += change
        signed[i] = change
    return Position(symbol, signed, price, ts)


class Journal:
    """A migrated database with one user, strategy and backtest run."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        upgrade(self.db.engine)
        with self.db.session(write=True) as session:
            user = User(username="bench", password_hash="-")
            session.add(user)
            session.flush()
            strategy = Strategy(user_id=user.id, name="Bench")
            session.add(strategy)
            session.flush()
            run = StrategyRun(
                user_id=user.id, source=SOURCE, key="bench", strategy_id=strategy.id,
                mode=RunMode.BACKTEST,
            )  # fmt: skip
            session.add(run)
            session.flush()
            self.user_id, self.run_id = user.id, run.id

    def q(self, sql: str) -> str:
        return sql if self.db.is_sqlite else sql.replace("?", "%s")

    def load(self, positions: list[Position]) -> None:
        """Fills in arrival order, bars under them, a stop for each entry, pending rows."""
        order = np.argsort(np.concatenate([p.ts for p in positions]), kind="stable")
        symbols = np.concatenate([[k] * len(p.ts) for k, p in enumerate(positions)])[order]
        columns = [np.concatenate([getattr(p, a) for p in positions])[order]
                   for a in ("signed", "price", "ts")]  # fmt: skip
        signed, price, ts = (c.tolist() for c in columns)
        fills: list[tuple[Any, ...]] = []
        orders: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        held: dict[int, int] = {}
        for n, (k, q, p, t) in enumerate(zip(symbols.tolist(), signed, price, ts, strict=True)):
            symbol = positions[k].symbol
            side = "buy" if q > 0 else "sell"
            fee = round(abs(q) * COMMISSION, 2)
            fills.append((self.user_id, self.run_id, SOURCE, f"x{n}", f"o{n}", t, symbol, side,
                          float(abs(q)), p, fee, ACCOUNT, None))  # fmt: skip
            before = held.get(k, 0)
            held[k] = before + q
            if before == 0 or (before > 0) != (held[k] > 0):  # a trade opens: its stop
                way = 1 if held[k] > 0 else -1
                stop = p - way * 4 * TICK
                stop_side = "sell" if way > 0 else "buy"
                orders.append((self.user_id, self.run_id, SOURCE, f"s{n}", symbol, stop_side,
                               "stop", float(abs(held[k])), "cancelled", stop, f"o{n}", t,
                               t + 30 * 10**9, len(events) + 2, t + 30 * 10**9, stop))  # fmt: skip
                for status, at in (("working", t), ("cancelled", t + 30 * 10**9)):
                    events.append((self.user_id, self.run_id, SOURCE, f"e{len(events)}", at,
                                   f"s{n}", symbol, stop_side, "stop", float(abs(held[k])),
                                   status, stop, f"o{n}"))  # fmt: skip
        with self.db.write_connection() as connection:
            connection.exec_driver_sql(self.q(
                "INSERT INTO execution (user_id, run_id, source, exec_id, order_id, ts, symbol,"
                " side, qty, price, commission, account, liquidity)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), fills)  # fmt: skip
            connection.exec_driver_sql(self.q(
                'INSERT INTO "order" (user_id, run_id, source, order_id, symbol, side,'
                " order_type, qty, status, stop_price, parent_id, created_ts, ts, last_event_id,"
                " finished_ts, first_stop_price, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)"),
                orders)  # fmt: skip
            connection.exec_driver_sql(self.q(
                "INSERT INTO order_event (user_id, run_id, source, event_id, ts, order_id,"
                " symbol, side, order_type, qty, status, stop_price, parent_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), events)  # fmt: skip
            for p in positions:
                self._bars(connection, p)
                connection.exec_driver_sql(self.q(
                    "INSERT INTO instrument (user_id, symbol, multiplier, updated_at)"
                    " VALUES (?, ?, ?, CURRENT_TIMESTAMP)"),
                    (self.user_id, p.symbol, MULTIPLIER))  # fmt: skip
        self.mark_pending([p.symbol for p in positions])

    def _bars(self, connection: Any, p: Position) -> None:
        connection.exec_driver_sql(self.q(
            "INSERT INTO market_series (user_id, symbol, timeframe_s) VALUES (?, ?, 60)"),
            (self.user_id, p.symbol))  # fmt: skip
        series_id = connection.exec_driver_sql(self.q(
            "SELECT id FROM market_series WHERE user_id = ? AND symbol = ?"),
            (self.user_id, p.symbol)).scalar_one()  # fmt: skip
        minute = p.ts // MINUTE_NS * MINUTE_NS
        starts = np.unique(minute)
        index = np.searchsorted(minute, starts)
        high = np.maximum.reduceat(p.price, index) + TICK
        low = np.minimum.reduceat(p.price, index) - TICK
        rows = [(series_id, int(t), float(lo + TICK), float(h), float(lo), float(h - TICK), 1.0)
                for t, h, lo in zip(starts, high, low, strict=True)]  # fmt: skip
        connection.exec_driver_sql(self.q(
            "INSERT INTO market_bar (series_id, ts, open, high, low, close, volume)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"), rows)  # fmt: skip

    def mark_pending(self, symbols: list[str]) -> None:
        with self.db.write_connection() as connection:
            connection.exec_driver_sql(self.q(
                "INSERT INTO pending_derivation (user_id, run_id, account, symbol, from_ts,"
                " created_at) VALUES (?, ?, ?, ?, 0, CURRENT_TIMESTAMP)"),
                [(self.user_id, self.run_id, ACCOUNT, s) for s in symbols])  # fmt: skip

    def trade_count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Trade)) or 0)

    def set_multiplier(self, symbol: str, multiplier: float) -> None:
        """The instrument's multiplier changed, as `PATCH /api/instruments` changes it."""
        with self.db.write_connection() as connection:
            connection.exec_driver_sql(self.q(
                "UPDATE instrument SET multiplier = ? WHERE user_id = ? AND symbol = ?"),
                (multiplier, self.user_id, symbol))  # fmt: skip

    def check(self, symbol: str, multiplier: float = MULTIPLIER) -> list[str]:
        """Stored trades against a from-scratch reconstruction of the stored fills."""
        with self.db.session() as session:
            fills = repository.replay(session, self.run_id, ACCOUNT, symbol, (0, 0),
                                      inclusive=True)  # fmt: skip
            stored = session.execute(
                select(Trade.id, Trade.exit_ts, Trade.qty, Trade.net_pnl, Trade.mfe, Trade.mae,
                       Trade.initial_risk, Trade.r_multiple)
                .where(Trade.run_id == self.run_id, Trade.symbol == symbol)
                .order_by(Trade.entry_ts, Trade.id)
            ).all()  # fmt: skip
        expected = [
            (t.id, t.exit_ts, float(t.qty), t.net_pnl)
            for t in reconstruct([Fill(*row[:6]) for row in fills], multiplier)
        ]
        got = [(r[0], r[1], float(r[2]), r[3]) for r in stored]
        problems = []
        if got != expected:
            wrong = sum(a != b for a, b in zip(got, expected, strict=False))
            problems.append(f"{symbol}: {len(got)} stored, {len(expected)} from scratch, "
                            f"{wrong} differ")  # fmt: skip
        unmeasured = sum(r[4] is None or r[5] is None for r in stored)
        without_r = sum(r[1] is not None and r[6] is not None and r[7] is None for r in stored)
        if unmeasured or without_r:
            problems.append(f"{symbol}: {unmeasured} trades without MFE or MAE, {without_r} "
                            "with an initial risk but no R")  # fmt: skip
        return problems


def drain(journal: Journal) -> tuple[float, float]:
    """Seconds to derive everything pending, and the longest write transaction in it, with
    the collector tuned as in the derivation worker process."""
    tune_gc()
    runner = DerivationRunner(journal.db)
    runner.preparers.append(prepare_rebuild)
    longest = 0.0
    started = time.perf_counter()
    while True:
        result = runner.derive_pending()
        longest = max([longest, *result.writes])
        if result.failed or result.failures:
            raise SystemExit(f"derivation failed: {result}")
        if not result.more:
            break
    return time.perf_counter() - started, longest


def raw_ceiling(journal: Journal) -> tuple[float, int]:
    """stdlib sqlite3 executemany of the stored trade and part rows into empty copies."""
    with journal.db.session() as session:
        trades = [tuple(r) for r in session.execute(text("SELECT * FROM trade")).all()]
        parts = [tuple(r) for r in session.execute(text("SELECT * FROM trade_fill")).all()]
    with tempfile.TemporaryDirectory(prefix="fillbook-raw-") as folder:
        connection = sqlite3.connect(Path(folder) / "raw.db")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for table, rows in (("trade", trades), ("trade_fill", parts)):
            columns = ", ".join(f"c{i}" for i in range(len(rows[0])))
            connection.execute(f"CREATE TABLE {table} ({columns})")
        started = time.perf_counter()
        connection.executemany(f"INSERT INTO trade VALUES ({', '.join('?' * len(trades[0]))})",
                               trades)  # fmt: skip
        connection.executemany(f"INSERT INTO trade_fill VALUES ({', '.join('?' * len(parts[0]))})",
                               parts)  # fmt: skip
        connection.commit()
        seconds = time.perf_counter() - started
        connection.close()
    return seconds, len(trades)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=200_000)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--big", action="store_true", help="re-derive a 1,000,000-fill position")
    parser.add_argument("--big-fills", type=int, help="the re-derived position's fills")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, checks only")
    parser.add_argument("--profile", help="write a cProfile of the full derivation here")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.fills, args.symbols = 4_000, 3
    kernel.start_warm_up()
    kernel.wait()
    rng = np.random.default_rng(7)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fillbook-derive-") as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        journal = Journal(url)
        positions = [simulate(rng, f"S{k:02d}", args.fills // args.symbols, 2000.0 + 100 * k)
                     for k in range(args.symbols)]  # fmt: skip
        journal.load(positions)
        rebuilding.STAGES.clear()
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        seconds, longest = drain(journal)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        fills = sum(len(p.ts) for p in positions)
        trades = journal.trade_count()
        print(
            f"full derivation: {fills:,} fills, {trades:,} trades in {seconds:.2f} s: "
            f"{fills / seconds:,.0f} fills/s; longest write transaction {longest * 1000:.0f} ms"
        )
        total = sum(rebuilding.STAGES.values())
        for stage, spent in sorted(rebuilding.STAGES.items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<12} {spent:7.2f} s  {spent / seconds:6.1%}")
        print(f"  {'(other)':<12} {seconds - total:7.2f} s  {(seconds - total) / seconds:6.1%}")
        for p in positions:
            problems += journal.check(p.symbol)
        if journal.db.is_sqlite:
            raw_s, rows = raw_ceiling(journal)
            print(
                f"raw ceiling: sqlite3 executemany of the {rows:,} trades and their parts "
                f"in {raw_s:.2f} s; derivation / raw = {seconds / raw_s:.1f}"
            )
        if not args.smoke and fills / seconds < FILLS_PER_S_GOAL:
            print(f"goal missed: {fills / seconds:,.0f} fills/s < {FILLS_PER_S_GOAL:,}")
    if args.big or args.smoke or args.big_fills:
        problems += big_position(args.big_fills or (BIG_FILLS if args.big else 20_000), rng)
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def big_position(n: int, rng: np.random.Generator) -> list[str]:
    """Re-derive one position of `n` fills from its first, as after an instrument change."""
    with tempfile.TemporaryDirectory(prefix="fillbook-derive-big-") as folder:
        journal = Journal(f"sqlite:///{folder}/big.db")
        position = simulate(rng, "BIG", n, 4000.0)
        journal.load([position])
        drain(journal)
        # Every trade's money changes, not one of its fill parts (the example).
        journal.set_multiplier("BIG", 2 * MULTIPLIER)
        journal.mark_pending(["BIG"])
        rebuilding.STAGES.clear()
        seconds, longest = drain(journal)
        print(f"re-derivation of one {n:,}-fill position after its multiplier changed: "
              f"{seconds:.2f} s, longest write transaction {longest * 1000:.0f} ms")  # fmt: skip
        for stage, spent in sorted(rebuilding.STAGES.items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<12} {spent:7.2f} s  {spent / seconds:6.1%}")
        problems = journal.check("BIG", 2 * MULTIPLIER)
        if n >= BIG_FILLS and seconds > BIG_GOAL_S:
            print(f"goal missed: {seconds:.1f} s > {BIG_GOAL_S} s")
        return problems


if __name__ == "__main__":
    sys.exit(main())
