"""Trade reconstruction: a full rebuild against vectorbt in the same run, and incremental rebuilds.

    .venv/bin/python bench/trades.py [--fills 1000000] [--symbols 10] [--batch 1000]
                                     [--repeats 3] [--seed 7] [--no-vectorbt] [--no-db]
                                     [--no-reference]

Fills: `--fills` in all, split evenly over `--symbols` symbols, generated from a
seeded numpy generator: whole contracts (1-5 a fill), prices on a 0.25 tick
(a random walk), 0.37 commission a contract, a tenth of the fills at the same
time as the fill before. Each symbol's position follows a small state machine:
from flat it opens long or short; in a position a fill scales in (40 %), exits
part of it (30 %), closes it (20 %) or reverses through zero (10 %), so a trade
has about four fills and a tenth of the trades start with a fill crossing zero.

1. Full rebuild in process through the compiled kernel (backend/trades/kernel.py):
   per symbol, float arrays in (seq, ts, side, qty, price, commission) -> arrays
   of trades and fill parts out, median of `--repeats`, wall and CPU time; the
   numba import and compile (or cache load) are reported apart. Then, timed apart,
   what a caller pays for Decimals: `kernel.results` (TradeResults with their
   FillParts) and `kernel.part_rows` (what a rebuild stores). Once, unless
   `--no-reference`: the pure-Python `reconstruct()` on the same fills as `Fill`
   records, whose trades must equal the kernel's.
2. vectorbt (requirements-bench.txt) on the same orders: `Portfolio.from_orders`
   (signed size, the fill's price, its commission as `fixed_fees`, unlimited
   cash) and `pf.positions.values` (its flat-to-flat position records), after a
   warm-up on a small input so that numba's compile time (or the load of its
   cache) is not counted; both are reported. The ratio is the kernel / vectorbt (time):
   at most 1 means at least as fast. Its positions are cross-checked against our
   trades: count, quantity, entry and exit fill, prices and net PnL.
3. In a migrated SQLite database (a temporary file): one run holding the fills,
   a full rebuild through the real pipeline: every position marked pending from
   ts 0 (as the ingest writer marks them), then a `DerivationRunner` whose deriver
   is `rebuild_position` drains them slice after slice (SLICE_FILLS fills a write
   transaction) until nothing is pending; the kernel compiled as in a warmed-up
   server. Every symbol's stored trades must then equal `reconstruct()` of its
   stored fills. Then, `--repeats` times each, on the first symbol:
   a batch of `--batch` new fills later than all others (the usual case), and a
   batch of `--batch` late fills spread over the last 1 % of the symbol's fills
   (they interleave, so that 1 % is replayed). Each is re-derived the same way,
   from the batch's earliest time, and timed: in the deriver, and the whole drain
   (every write transaction with its commit). At the end the stored trades of that
   symbol must equal a reconstruction from scratch of its stored fills.

`--smoke`: 20,000 fills, 4 symbols, 200-fill batches, one repeat, vectorbt only if
installed; every check runs, the goals are printed but never fail the run.

Exits 1 when a cross-check or a rebuild fails. Goals (docs/benchmarks.md): full rebuild of
1,000,000 fills in at most 1 s and ratio to vectorbt at most 1; incremental
rebuild after a 1,000-fill batch at most 20 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from backend.db.engine import Database  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.db.models import PendingDerivation, Strategy, StrategyRun, Trade, User  # noqa: E402
from backend.db.models.strategy import RunMode  # noqa: E402
from backend.ingest.derivations import Derivation, DerivationRunner  # noqa: E402
from backend.ingest.repository import IngestRepository  # noqa: E402
from backend.ingest.sql import Dialect  # noqa: E402
from backend.trades import kernel, repository  # noqa: E402
from backend.trades.incremental import plan_rebuild  # noqa: E402
from backend.trades.rebuild import rebuild_position  # noqa: E402
from backend.trades.reconstruct import Fill, TradeResult, reconstruct  # noqa: E402

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

TICK = 0.25
COMMISSION = 0.37  # a contract
BASE_NS = 1_700_000_000_000_000_000
MEAN_GAP_NS = 1_500_000_000
ACCOUNT = "SIM"
SOURCE = "bench"
MULTIPLIER = 1.0  # vectorbt has none; the cost of reconstruct does not depend on it
FULL_GOAL_S, FULL_FILLS = 1.0, 1_000_000
INCREMENTAL_GOAL_MS = 20.0


# -- fills ------------------------------------------------------------------------------


@dataclass
class Book:
    """One symbol's fills as arrays, in time order, and where its position stands."""

    symbol: str
    signed: Ints  # +qty buys, -qty sells, whole contracts
    price: Floats
    ts: Ints
    position: int

    @property
    def commission(self) -> Floats:
        return np.round(np.abs(self.signed) * COMMISSION, 2)


def simulate(
    rng: np.random.Generator, n: int, position: int, price: float, ts: int
) -> tuple[Ints, Floats, Ints, int]:
    """`n` fills going on from `position` at `price` and `ts`: (signed qty, price, ts, position)."""
    action = rng.random(n).tolist()
    size = rng.integers(1, 6, n).tolist()
    long = (rng.random(n) < 0.5).tolist()
    prices: Floats = (price + np.cumsum(rng.integers(-4, 5, n)) * TICK).astype(np.float64)
    gaps = rng.integers(1, 2 * MEAN_GAP_NS, n)
    gaps[rng.random(n) < 0.1] = 0  # a partial fill at the same time as the fill before
    times = ts + np.cumsum(gaps)
    signed = np.empty(n, dtype=np.int64)
    for i in range(n):
        qty, x = size[i], action[i]
        if position == 0:
            change = qty if long[i] else -qty
        else:
            way = 1 if position > 0 else -1
            held = abs(position)
            if x < 0.4 or (held == 1 and x < 0.7):
                change = way * qty  # scale in
            elif x < 0.7:
                change = -way * min(qty, held - 1)  # partial exit
            elif x < 0.9:
                change = -position  # close
            else:
                change = -position - way * qty  # reverse
        position += change
        signed[i] = change
    return signed, prices, times, position


def make_books(rng: np.random.Generator, fills: int, symbols: int) -> list[Book]:
    per_symbol = fills // symbols
    books = []
    for k in range(symbols):
        signed, price, ts, position = simulate(rng, per_symbol, 0, 2000.0 + 500 * k, BASE_NS)
        books.append(Book(f"S{k:02d}", signed, price, ts, position))
    return books


def arrival_order(books: list[Book]) -> list[Ints]:
    """Each fill's arrival number (1, 2, ...) over all symbols: by time, then symbol order."""
    ts = np.concatenate([b.ts for b in books])
    rank = np.empty(len(ts), dtype=np.int64)
    rank[np.argsort(ts, kind="stable")] = np.arange(1, len(ts) + 1)
    bounds = np.cumsum([0] + [len(b.ts) for b in books])
    return [rank[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def as_fills(book: Book, seqs: Ints) -> list[Fill]:
    return [
        Fill(seq, ts, "buy" if q > 0 else "sell", float(abs(q)), price, fee)
        for seq, ts, q, price, fee in zip(
            seqs.tolist(),
            book.ts.tolist(),
            book.signed.tolist(),
            book.price.tolist(),
            book.commission.tolist(),
            strict=True,
        )
    ]


# -- measuring --------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@dataclass
class Row:
    label: str
    seconds: list[float]
    items: int  # fills

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def per_second(self) -> float:
        return self.items / self.median


def rebuild_in_process(fill_lists: list[list[Fill]]) -> list[list[TradeResult]]:
    return [reconstruct(fills, MULTIPLIER) for fills in fill_lists]


def kernel_input(book: Book, seqs: Ints) -> kernel.Columns:
    """A symbol's fills as the arrays the kernel takes (what vectorbt gets too: arrays)."""
    return (
        seqs, book.ts, book.signed > 0, np.abs(book.signed).astype(np.float64), book.price,
        book.commission,
    )  # fmt: skip


def rebuild_arrays(inputs: list[kernel.Columns]) -> list[kernel.Matched]:
    out = []
    for columns in inputs:
        matched = kernel.compute(*columns)
        if matched is None:
            raise RuntimeError("the kernel left these fills to reconstruct()")
        out.append(matched)
    return out


# -- vectorbt ---------------------------------------------------------------------------


@dataclass
class Vectorbt:
    import_s: float
    warm_up_s: float
    simulate: Row
    positions: Row
    total: Row
    records: Any  # numpy structured array of position records


def run_vectorbt(books: list[Book], repeats: int) -> Vectorbt:
    import_s, vbt = timed(_import_vectorbt)
    size = np.column_stack([b.signed for b in books]).astype(np.float64)
    price = np.column_stack([b.price for b in books])
    fees = np.column_stack([b.commission for b in books])

    def positions(rows: slice) -> tuple[float, float, Any]:
        sim_s, portfolio = timed(
            lambda: vbt.Portfolio.from_orders(
                close=price[rows], size=size[rows], price=price[rows], fixed_fees=fees[rows],
                size_type="amount", direction="both", init_cash=np.inf,
            )
        )  # fmt: skip
        pos_s, records = timed(lambda: portfolio.positions.values)
        return sim_s, pos_s, records

    warm_up_s = sum(positions(slice(0, 100))[:2])
    runs = [positions(slice(None)) for _ in range(repeats)]
    fills = size.size
    return Vectorbt(
        import_s,
        warm_up_s,
        Row("  of which from_orders (simulation, order records)", [r[0] for r in runs], fills),
        Row("  of which positions.values (position records)", [r[1] for r in runs], fills),
        Row("vectorbt: from_orders + positions", [r[0] + r[1] for r in runs], fills),
        runs[-1][2],
    )


def _import_vectorbt() -> Any:
    import vectorbt

    return vectorbt


def cross_check(trades: list[list[TradeResult]], seqs: list[Ints], records: Any) -> list[str]:
    """Differences between our trades and vectorbt's positions (none expected)."""
    problems: list[str] = []
    for col, (ours, seq) in enumerate(zip(trades, seqs, strict=True)):
        theirs = records[records["col"] == col]
        if len(ours) != len(theirs):
            problems.append(f"column {col}: {len(ours)} trades, vectorbt {len(theirs)} positions")
            continue
        closed = np.array([not t.is_open for t in ours])
        entry_idx = np.searchsorted(seq, [t.id for t in ours])
        exit_idx = np.searchsorted(seq, [t.fills[-1].seq for t in ours])
        qty = np.array([float(t.qty) for t in ours])
        entry = np.array([float(t.entry_price) for t in ours])
        exit_ = np.array([float(t.exit_price or 0) for t in ours])
        pnl = np.array([float(t.net_pnl) for t in ours])
        # an open position's exit and PnL are marked to the last price in vectorbt
        checks = {
            "open/closed": closed == (theirs["status"] == 1),
            "qty": qty == theirs["size"],
            "entry fill": entry_idx == theirs["entry_idx"],
            "exit fill": (exit_idx == theirs["exit_idx"]) | ~closed,
            "entry price": np.abs(entry - theirs["entry_price"]) < 1e-6,
            "exit price": (np.abs(exit_ - theirs["exit_price"]) < 1e-6) | ~closed,
            "net PnL": (np.abs(pnl - theirs["pnl"]) < 1e-6) | ~closed,
        }
        for what, ok in checks.items():
            if not ok.all():
                problems.append(f"column {col}: {what} differs for {int((~ok).sum())} trades")
    return problems


# -- the database -----------------------------------------------------------------------


@dataclass
class Batches:
    """Incremental rebuilds after batches of fills, until the first that fails."""

    label: str
    call_s: list[float] = field(default_factory=list)  # in rebuild_position
    cpu_s: list[float] = field(default_factory=list)  # the same, CPU time of this thread
    transaction_s: list[float] = field(default_factory=list)  # the drain, commits too
    seeded: int = 0  # of the timed, how many replayed from a trade opened by a fill crossing zero
    error: str | None = None


@dataclass
class DatabaseFigures:
    insert_s: float
    rebuild_s: float  # every symbol drained through the runner
    trades: int
    append: Batches
    late: Batches
    late_replayed: int
    full_check: list[str]  # after the full rebuild: every symbol's stored vs from scratch
    check: list[str]  # after the incremental batches, on the first symbol


class Journal:
    """A migrated SQLite file with one user, strategy and run."""

    def __init__(self, path: Path) -> None:
        self.db = Database(f"sqlite:///{path}")
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
        self.inserted = 0

    def insert(self, symbols: list[str], signed: Ints, price: Floats, ts: Ints) -> None:
        """Executions in the order given (their ids follow it), as the ingest writer stores them."""
        fee = np.round(np.abs(signed) * COMMISSION, 2).tolist()
        rows = []
        for i, (symbol, q, p, t) in enumerate(
            zip(symbols, signed.tolist(), price.tolist(), ts.tolist(), strict=True)
        ):
            n = self.inserted + i
            rows.append(
                (self.user_id, self.run_id, SOURCE, f"x{n}", f"o{n}", t, symbol,
                 "buy" if q > 0 else "sell", float(abs(q)), p, fee[i], ACCOUNT, None)
            )  # fmt: skip
        with self.db.write_connection() as connection:
            connection.exec_driver_sql(
                "INSERT INTO execution (user_id, run_id, source, exec_id, order_id, ts, symbol,"
                " side, qty, price, commission, account, liquidity)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        self.inserted += len(rows)

    def rebuild(self, symbols: list[str], from_ts: int) -> tuple[float, float, float]:
        """Re-derive `symbols` from `from_ts` through the real pipeline: the positions marked
        pending (as the ingest writer marks them), then a DerivationRunner with the real
        deriver draining them, slice after slice, until nothing is pending. Seconds in the
        deriver (wall, CPU), and of the whole drain (wall: every write transaction, commit
        included)."""
        with self.db.write_connection() as connection:
            dialect = Dialect(connection.dialect.name)
            stamp = dialect.timestamp(dt.datetime.now(dt.UTC))
            IngestRepository(connection, dialect).mark_pending(
                [(self.user_id, self.run_id, ACCOUNT, s, from_ts, stamp) for s in symbols]
            )
        call_s: list[float] = []
        cpu_s: list[float] = []

        def deriver(session: Session, derivation: Derivation) -> int | None:
            cpu, began = time.thread_time(), time.perf_counter()
            try:
                return rebuild_position(session, derivation)
            finally:
                call_s.append(time.perf_counter() - began)
                cpu_s.append(time.thread_time() - cpu)

        runner = DerivationRunner(self.db)
        runner.derivers = [deriver]
        start = time.perf_counter()
        while self.pending():
            if runner.run_pending():
                raise RuntimeError("positions stayed pending: the database was busy")
            failed = self.failed()
            if failed:
                raise RuntimeError(f"a rebuild failed: {failed}")
        return sum(call_s), sum(cpu_s), time.perf_counter() - start

    def pending(self) -> int:
        with self.db.session() as session:
            count = session.scalar(select(func.count()).select_from(PendingDerivation))
            return int(count or 0)

    def failed(self) -> str | None:
        with self.db.session() as session:
            return session.scalar(
                select(PendingDerivation.error).where(PendingDerivation.error.is_not(None))
            )

    def apply_batch(
        self, batches: Batches, symbol: str, signed: Ints, price: Floats, ts: Ints
    ) -> None:
        """Store a batch of fills of `symbol` and time re-deriving its trades from the earliest."""
        self.insert([symbol] * len(ts), signed, price, ts)
        from_ts = int(ts.min())
        with self.db.session() as session:
            stored = repository.stored_trades(session, self.run_id, ACCOUNT, symbol, from_ts)
        seeded = plan_rebuild(stored, from_ts).seed_trade is not None
        try:
            call_s, cpu_s, transaction_s = self.rebuild([symbol], from_ts)
        except Exception as error:  # reported, and the phase stops: its trades are now stale
            batches.error = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            return
        batches.call_s.append(call_s)
        batches.cpu_s.append(cpu_s)
        batches.transaction_s.append(transaction_s)
        batches.seeded += seeded

    def stored_vs_scratch(self, symbol: str) -> list[str]:
        """Differences between the stored trades and a reconstruction of the stored fills."""
        with self.db.session() as session:
            replayed = repository.replay(session, self.run_id, ACCOUNT, symbol, (0, 0),
                                         inclusive=True)
            stored = session.execute(
                select(Trade.id, Trade.exit_ts, Trade.qty, Trade.net_pnl)
                .where(Trade.run_id == self.run_id, Trade.symbol == symbol)
                .order_by(Trade.entry_ts, Trade.id)
            ).all()
        fills = [Fill(*row[:6]) for row in replayed]  # without the order id
        expected = [(t.id, t.exit_ts, float(t.qty), t.net_pnl) for t in reconstruct(fills)]
        got = [tuple(row) for row in stored]
        if got == expected:
            return []
        wrong = sum(a != b for a, b in zip(got, expected, strict=False))
        return [f"{symbol}: {len(got)} stored trades, {len(expected)} from scratch, {wrong} differ"]

    def count_trades(self) -> int:
        with self.db.session() as session:
            return int(session.execute(select(func.count()).select_from(Trade)).scalar_one())


def run_database(
    rng: np.random.Generator, books: list[Book], args: argparse.Namespace
) -> DatabaseFigures:
    with tempfile.TemporaryDirectory(prefix="fillbook-bench-") as folder:
        journal = Journal(Path(folder) / "bench.db")
        ts = np.concatenate([b.ts for b in books])
        order = np.argsort(ts, kind="stable")
        symbols = np.repeat([b.symbol for b in books], [len(b.ts) for b in books])[order].tolist()
        insert_s, _ = timed(
            lambda: journal.insert(
                symbols,
                np.concatenate([b.signed for b in books])[order],
                np.concatenate([b.price for b in books])[order],
                ts[order],
            )
        )
        rebuild_s = journal.rebuild([b.symbol for b in books], 0)[2]
        trades = journal.count_trades()
        full_check = [p for b in books for p in journal.stored_vs_scratch(b.symbol)]

        book = books[0]
        append = Batches("append (later than all fills)")
        for _ in range(args.repeats):
            signed, price, times, position = simulate(
                rng, args.batch, book.position, float(book.price[-1]), int(book.ts[-1])
            )
            journal.apply_batch(append, book.symbol, signed, price, times)
            if append.error:
                break
            book = Book(
                book.symbol,
                np.concatenate([book.signed, signed]),
                np.concatenate([book.price, price]),
                np.concatenate([book.ts, times]),
                position,
            )

        late = Batches("late (over the last 1 % of the fills)")
        back = max(1, len(book.ts) // 100)
        for _ in range(args.repeats if not append.error else 0):
            first, last = int(book.ts[-back]), int(book.ts[-1])
            times = np.sort(rng.integers(first, last + 1, args.batch))
            signed = rng.integers(1, 6, args.batch) * rng.choice([-1, 1], args.batch)
            price = book.price[np.searchsorted(book.ts, times).clip(0, len(book.ts) - 1)]
            journal.apply_batch(late, book.symbol, signed, price, times)
            if late.error:
                break
            merged = np.argsort(np.concatenate([book.ts, times]), kind="stable")
            book = Book(
                book.symbol,
                np.concatenate([book.signed, signed])[merged],
                np.concatenate([book.price, price])[merged],
                np.concatenate([book.ts, times])[merged],
                book.position + int(signed.sum()),
            )
        failed = append.error or late.error
        check = [] if failed else journal.stored_vs_scratch(book.symbol)
        journal.db.dispose()

    return DatabaseFigures(insert_s, rebuild_s, trades, append, late, back, full_check, check)


# -- report -----------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}),"
        f" Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" numpy {np.__version__}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_full(rows: list[Row], vbt_total: float | None) -> None:
    print("| path | s (median) | fills/s | ratio to vectorbt (time) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        ratio = f"{row.median / vbt_total:.2f}" if vbt_total else "-"
        print(f"| {row.label} | {row.median:.3f} | {row.per_second:,.0f} | {ratio} |")


def print_incremental(phases: list[Batches]) -> None:
    print("| batch | timed | ms (median) | min | max | batches | of which seeded |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for phase in phases:
        for timed_, seconds in (
            ("rebuild_position", phase.call_s),
            ("rebuild_position, CPU time", phase.cpu_s),
            ("the drain: write transactions incl. commits", phase.transaction_s),
        ):
            ms = [s * 1000 for s in seconds] or [math.nan]
            print(
                f"| {phase.label} | {timed_} | {statistics.median(ms):.1f} | {min(ms):.1f}"
                f" | {max(ms):.1f} | {len(seconds)} | {phase.seeded} |"
            )
        if phase.error:
            print(f"FAILED: {phase.label}, batch {len(phase.call_s) + 1}: {phase.error}")
    print("(seeded: the replay started from a trade opened by a fill crossing zero)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fills", type=int, default=FULL_FILLS, help="fills in all (1000000)")
    parser.add_argument("--symbols", type=int, default=10, help="symbols they are split over (10)")
    parser.add_argument("--batch", type=int, default=1000, help="fills in a batch (1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each timing (3)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the fills (7)")
    parser.add_argument("--no-vectorbt", action="store_true", help="skip the vectorbt baseline")
    parser.add_argument("--no-db", action="store_true", help="skip the database part")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip timing and comparing reconstruct()"
    )
    parser.add_argument(
        "--smoke", action="store_true",
        help="tiny sizes (20,000 fills, 4 symbols, 200-fill batches, one repeat), every check",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.smoke:
        args.fills, args.symbols, args.batch, args.repeats = 20_000, 4, 200, 1
        if not args.no_vectorbt and importlib.util.find_spec("vectorbt") is None:
            print("vectorbt is not installed (requirements-bench.txt): its baseline is skipped")
            args.no_vectorbt = True
    if args.fills < args.symbols or args.symbols < 1 or args.repeats < 1 or args.batch < 1:
        parser.error("need --symbols >= 1, --fills >= --symbols, --repeats >= 1, --batch >= 1")
    return args


def full_rebuild(args: argparse.Namespace, books: list[Book]) -> list[str]:
    """Time and print the full rebuilds; returns the cross-check's problems."""
    warm_s, ready = timed(kernel.wait)
    if not ready:
        return ["the numba kernel is not available"]
    seqs = arrival_order(books)
    inputs = [kernel_input(b, s) for b, s in zip(books, seqs, strict=True)]
    fills = sum(len(b.ts) for b in books)

    ours_s: list[float] = []
    cpu_s: list[float] = []
    matched: list[kernel.Matched] = []
    for _ in range(args.repeats):
        matched = []
        cpu = time.process_time()
        seconds, matched = timed(lambda: rebuild_arrays(inputs))
        cpu_s.append(time.process_time() - cpu)
        ours_s.append(seconds)
    decimal_s, trades = timed(lambda: [kernel.results(m, MULTIPLIER) for m in matched])
    rows_s = [timed(lambda: [kernel.part_rows(m) for m in matched])[0] for _ in range(args.repeats)]
    rows = [
        Row("ours: kernel, float arrays in -> trade and part arrays out", ours_s, fills),
        Row("  the same, CPU time of this process", cpu_s, fills),
        Row(
            "  then TradeResults with Decimals and FillParts (kernel.results), once",
            [decimal_s],
            fills,
        ),
        Row("  or the part rows a rebuild stores (kernel.part_rows)", rows_s, fills),
    ]
    problems: list[str] = []
    if not args.no_reference:  # the pure-Python reference, once: it must give equal trades
        fill_lists = [as_fills(b, s) for b, s in zip(books, seqs, strict=True)]
        reference_s, reference = timed(lambda: rebuild_in_process(fill_lists))
        rows.append(Row("reference: reconstruct() per symbol (pure Python)", [reference_s], fills))
        if reference != trades:
            problems.append("kernel trades differ from reconstruct()")
        del fill_lists, reference
    count = sum(len(t) for t in trades)
    reversals = sum(
        b.fills[0].seq == a.fills[-1].seq for ts in trades for a, b in zip(ts, ts[1:], strict=False)
    )
    vbt: Vectorbt | None = None
    if not args.no_vectorbt:
        vbt = run_vectorbt(books, args.repeats)
        rows += [vbt.total, vbt.simulate, vbt.positions]
        problems += cross_check(trades, seqs, vbt.records)
    print(
        f"\nFull rebuild of {fills:,} fills ({args.symbols} symbols x {fills // args.symbols:,}):"
        f" {count:,} trades ({reversals:,} opened by a fill crossing zero),"
        f" {fills / count:.1f} fills a trade; median of {args.repeats}"
    )
    print_full(rows, vbt.total.median if vbt else None)
    print(
        f"kernel: numba import {kernel.warm_up_seconds.get('import', 0):.2f} s, compile or"
        f" cache load {kernel.warm_up_seconds.get('compile', 0):.2f} s ({warm_s:.2f} s in all),"
        " not counted above"
        + ("; trades equal reconstruct()'s" if not args.no_reference and not problems else "")
    )
    if vbt:
        print(
            f"vectorbt: import {vbt.import_s:.1f} s, warm-up (numba compile or cache load)"
            f" {vbt.warm_up_s:.1f} s, not counted above;"
            f" cross-check of {len(vbt.records):,} positions:"
            f" {'equal' if not problems else 'DIFFERENT'}"
        )
    ours = rows[0].median * FULL_FILLS / fills
    print(f"goal: {FULL_FILLS:,} fills in <= {FULL_GOAL_S} s: {verdict(ours <= FULL_GOAL_S)}"
          f" ({ours:.3f} s scaled to {FULL_FILLS:,})")  # fmt: skip
    if vbt:
        ratio = rows[0].median / vbt.total.median
        print(f"goal: ratio to vectorbt <= 1: {verdict(ratio <= 1)} ({ratio:.2f})")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"machine: {machine()}")
    books = make_books(rng, args.fills, args.symbols)
    fills = sum(len(b.ts) for b in books)
    problems = full_rebuild(args, books)
    gc.collect()  # the in-process fills and trades are gone: no collection pauses from them

    if not args.no_db:
        figures = run_database(rng, books, args)
        problems += figures.full_check + figures.check
        total = figures.rebuild_s
        print(
            f"\nDatabase (SQLite file): {fills:,} executions inserted in {figures.insert_s:.1f} s"
            f" ({fills / figures.insert_s:,.0f} rows/s, one executemany);"
            f" full rebuild, every position pending from the start and drained by a"
            f" DerivationRunner with rebuild_position: {total:.1f} s ({fills / total:,.0f}"
            f" fills/s, {figures.trades:,} trades stored; stored vs from scratch, every symbol:"
            f" {'equal' if not figures.full_check else 'DIFFERENT'})"
        )
        print(
            f"Incremental on {books[0].symbol} ({fills // args.symbols:,} fills of the run's"
            f" {fills:,}), batches of {args.batch:,}; a late batch replays"
            f" ~{figures.late_replayed:,} stored fills; median of {args.repeats}"
        )
        print_incremental([figures.append, figures.late])
        if figures.append.call_s:
            append_ms = statistics.median(figures.append.call_s) * 1000
            cpu_ms = statistics.median(figures.append.cpu_s) * 1000
            ok = append_ms <= INCREMENTAL_GOAL_MS and not figures.append.error
            print(
                f"goal: incremental rebuild after a {args.batch:,}-fill batch <="
                f" {INCREMENTAL_GOAL_MS:.0f} ms: {verdict(ok)} ({append_ms:.1f} ms;"
                f" CPU time {cpu_ms:.1f} ms)"
            )
        problems += [f"{b.label}: {b.error}" for b in (figures.append, figures.late) if b.error]
        if not (figures.append.error or figures.late.error):
            print(f"stored trades vs from scratch: {'equal' if not figures.check else 'DIFFERENT'}")

    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
