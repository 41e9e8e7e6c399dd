"""Rebuilding a position's trades after its fills changed, and enriching them.

Two steps, so that SQLite's one write lock is held only to write:

- `derive_slice` reads (a read transaction is enough) and computes: which stored trades
  the change invalidates (incremental.plan_rebuild), the fills to replay, the trades and
  their fill parts (the compiled kernel), excursions from bars, initial risk and R from the
  run's stops, the regime at each entry. Its result is a `Slice` of ready rows.
- `Slice.write` deletes the trades it replaces and inserts the new rows, keeping the
  user's notes, tags and setup, in a write transaction.

`prepare_rebuild` is the two-step deriver the ingest pipeline runs for each position a
batch touched (backend/ingest/derivations.py); `rebuild_position` does both steps in one
session. At most `SLICE_FILLS` fills are replayed at a time: when more are stale, the
trades up to the cut are stored (the one open there as open) and the time of the first
fill left is where the next slice goes on.

Stored values are computed from exact integers (1e-8 units, reconstruct.TradeSums): a
float on SQLite is that integer / 1e8, correctly rounded, as float(Decimal) would be; a
Decimal with 8 places on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy.orm import Session

from backend.ingest.derivations import Derivation
from backend.ingest.domain import MAX_TRADE_MONEY, DomainError, check_trade_money
from backend.ingest.sql import Dialect
from backend.ingest.timestamps import format_ts
from backend.market import repository as bars
from backend.regimes.service import regime_at_entries
from backend.trades import kernel, repository
from backend.trades.changes import Changes, diff
from backend.trades.excursions import NS
from backend.trades.incremental import plan_rebuild
from backend.trades.reconstruct import SCALE, Fill, TradeSums, reconstruct, sums_of
from backend.trades.risk import initial_risk, initial_stops, r_multiple

# Fills one slice replays at most. Computing happens outside the write lock; writing a
# slice this size (~7,000 trades, 20,000 parts) holds it for tens of milliseconds.
# FILLBOOK_SLICE_FILLS sets it for the processes started after (tests: small slices).
SLICE_FILLS = int(os.environ.get("FILLBOOK_SLICE_FILLS", "20000"))

# Seconds spent in each stage of the rebuilds of this process (bench/derive.py prints them).
STAGES: dict[str, float] = {}

_EIGHT = Decimal("0.00000001")


@contextmanager
def _stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        STAGES[name] = STAGES.get(name, 0.0) + time.perf_counter() - started


@dataclass
class Slice:
    """A position's re-derived trades from one replay, ready to write."""

    derivation: Derivation
    replace: list[int]  # ids of the stored trades the rows supersede
    # The last slice also supersedes every stored trade entering from this time on.
    replace_from: int | None
    rows: list[tuple[Any, ...]]  # repository.TRADE_COLUMNS, without the user's annotations
    parts: list[repository.PartRow]
    resume: int | None  # where the next slice goes on; None when the position is done
    # What differs from the trades stored when the slice was read, and the ids of those
    # entering from `replace_from` on then; None: replace them all.
    changes: Changes | None = None
    known: frozenset[int] = frozenset()

    def write(self, session: Session) -> int | None:
        """Replace the superseded trades by the new rows; the time to go on from, or None."""
        with _stage("write"):
            d, ids_ = self.derivation, set(self.replace) | {row[0] for row in self.rows}
            if self.replace_from is not None:
                later = repository.trade_ids_from(session, d.run_id, d.account, d.symbol,
                                                  self.replace_from)  # fmt: skip
                ids_.update(later)
            if self.changes is not None and ids_ <= self.known:
                # Only this runner writes the position's trades (its claim): what the read
                # saw is what is stored, unless its run went meanwhile.
                repository.write_changes(session, self.changes)
                return self.resume
            ids = sorted(ids_)
            kept = repository.user_annotations(session, ids)
            repository.delete_trades(session, ids)
            repository.insert_trade_rows(session, self.rows, self.parts, kept)
        return self.resume


def rebuild_position(
    session: Session, derivation: Derivation, slice_fills: int | None = None
) -> int | None:
    """Re-derive the trades of one (run, account, symbol) from `derivation.from_ts` on, in
    this session: at most `slice_fills` fills; the time of the first fill left, or None."""
    return derive_slice(session, derivation, slice_fills).write(session)


def prepare_rebuild(session: Session, derivation: Derivation) -> Callable[[Session], int | None]:
    """The first step of a rebuild, from a read session: what the write session runs."""
    return derive_slice(session, derivation).write


def derive_slice(session: Session, d: Derivation, slice_fills: int | None = None) -> Slice:
    try:
        return _derive(session, d, SLICE_FILLS if slice_fills is None else slice_fills)
    except InvalidOperation:  # a Decimal past 28 digits: far beyond the trade money domain
        raise DomainError(
            f"{d.symbol}: a trade's amounts are beyond the {MAX_TRADE_MONEY:,} a "
            "trade may amount to; check the instrument's multiplier and the fills' qty and price"
        ) from None


def _derive(session: Session, d: Derivation, slice_fills: int) -> Slice:
    kernel.start_warm_up()  # in the background, once; until it is ready, pure Python serves
    with _stage("read fills"):
        multiplier, default_risk = repository.instrument(session, d.user_id, d.symbol)
        stored = repository.stored_trades(
            session, d.run_id, d.account, d.symbol, d.from_ts, limit=slice_fills + 1
        )
        plan = plan_rebuild(stored, d.from_ts)
        seed: list[repository.ReplayRow] = []
        if plan.seed_trade is not None:
            # From flat, a fill of the part it opened with opens the same trade
            seed = [repository.crossing_entry(session, plan.seed_trade)]
            key, inclusive = (seed[0][1], seed[0][0]), False
        else:
            key, inclusive = plan.replay_after, True
        fills = seed + repository.replay(
            session, d.run_id, d.account, d.symbol, key, inclusive=inclusive,
            limit=slice_fills + 1,
        )  # fmt: skip
    resume: int | None = None
    replace = plan.replace
    if len(fills) > slice_fills:
        resume = fills[slice_fills][1]
        trades, parts = derive(fills[:slice_fills], multiplier)
        if trades[-1].exit_ts is None and trades[-1].id == fills[0][0]:
            # One trade spans the whole slice: the next would start where this one did.
            # Never flat for that long, the position is rebuilt in one go.
            resume = None
            with _stage("read fills"):
                fills = seed + repository.replay(
                    session, d.run_id, d.account, d.symbol, key, inclusive=inclusive
                )
        else:
            fills = fills[:slice_fills]
            # Trades from the first left fill's time on are the next slice's to replace.
            starts = {t.id: t.entry_ts for t in stored}
            replace = [i for i in plan.replace if starts[i] < resume]
    if resume is None:
        trades, parts = derive(fills, multiplier)
    rows = _rows(session, d, trades, fills, multiplier, default_risk, resume) if trades else []
    replace_from = None if resume is not None else d.from_ts
    with _stage("diff"):
        known = set(replace) | {row[0] for row in rows}
        if replace_from is not None:
            known.update(repository.trade_ids_from(session, d.run_id, d.account, d.symbol,
                                                   replace_from))  # fmt: skip
        stored_rows = repository.derived_rows(session, sorted(known))
        dialect = Dialect(session.connection().dialect.name)
        changes = diff(
            stored_rows,
            repository.stored_parts(session, sorted(stored_rows)),
            rows,
            repository.part_values(dialect, parts),
            stamp=repository.STAMP,
            keys=repository.TIME_KEYS,
        )
    return Slice(d, replace, replace_from, rows, parts, resume, changes, frozenset(known))


def derive(
    fills: Sequence[Sequence[Any]], multiplier: float
) -> tuple[list[TradeSums], list[repository.PartRow]]:
    """Trades as integer sums and the rows of their fill parts, from flat, for fills given
    as (seq, ts, side, qty, price, commission, ...) in (ts, seq) order.

    The compiled kernel when it is ready and the values fit it, else reconstruct();
    both give the same trades and parts (tests/trades/test_kernel.py).
    """
    with _stage("kernel"):
        matched = kernel.compute(*kernel.columns(fills)) if fills and kernel.ready() else None
        if matched is not None:
            return kernel.sums(matched, multiplier), kernel.part_rows(matched)
        trades = reconstruct([Fill(*row[:6]) for row in fills], multiplier)
        parts = [
            (t.id, p.seq, p.role, float(p.qty), int(p.commission.scaleb(8)))
            for t in trades
            for p in t.fills
        ]
        return [sums_of(t) for t in trades], parts


def _rows(
    session: Session,
    d: Derivation,
    trades: list[TradeSums],
    fills: Sequence[Sequence[Any]],
    multiplier: float,
    default_risk: float | None,
    resume: int | None = None,
) -> list[tuple[Any, ...]]:
    """The trade rows (repository.TRADE_COLUMNS without the annotations): excursions from the
    finest stored bars, initial risk and R from the run's stops, regimes at entry. A slice
    that stops at `resume` measures the trade open there up to that time only: the next
    slice replaces it."""
    sqlite = Dialect(session.connection().dialect.name).is_sqlite

    def money(scaled: int | None) -> Any:  # the column's value of an integer of 1e-8
        if scaled is None:
            return None
        return scaled / SCALE if sqlite else Decimal(scaled).scaleb(-8)

    def amount(value: Decimal | None) -> Any:
        return None if value is None or not sqlite else float(value)

    where = f"{d.symbol} trade"
    limit = MAX_TRADE_MONEY * SCALE
    for t in trades:
        for name, value in (("gross_pnl", t.gross_pnl), ("commission", t.commission),
                            ("net_pnl", t.net_pnl)):  # fmt: skip
            if abs(value) > limit:
                check_trade_money(name, value / SCALE, f"{where} at {format_ts(t.entry_ts)}")
    with _stage("excursions"):
        measured = _excursions(session, d, trades, resume)
    with _stage("regimes"):
        method = repository.regime_method(session, d.user_id)
        regimes = regime_at_entries(session, d.user_id, d.symbol, [t.entry_ts for t in trades],
                                    method)  # fmt: skip
    with _stage("risk"):
        entries = {row[0]: (row[6] if len(row) > 6 else None) for row in fills}
        lo, hi = trades[0].entry_ts, trades[-1].entry_ts
        stops = repository.stop_orders(session, d.run_id, d.symbol, lo, hi,
                                       {o for o in entries.values() if o is not None})  # fmt: skip
        stop_prices = initial_stops(
            [("long" if t.direction > 0 else "short", t.entry_ts, entries.get(t.id))
             for t in trades], stops,
        )  # fmt: skip
    with _stage("rows"):
        mult = Decimal(str(multiplier))
        stamp = Dialect(session.connection().dialect.name).timestamp(dt.datetime.now(dt.UTC))
        rows = []
        for t, (mfe, mae, efficiency), regime, stop in zip(
            trades, measured, regimes, stop_prices, strict=True
        ):
            entry_price = Decimal(t.entry_price).scaleb(-8)
            qty = Decimal(t.qty).scaleb(-8)
            risk = initial_risk(entry_price, qty, multiplier, stop, default_risk)
            size = Decimal(t.max_position).scaleb(-8) * mult
            mfe_amount = None if mfe is None else (Decimal(repr(mfe)) * size).quantize(_EIGHT)
            mae_amount = None if mae is None else (Decimal(repr(mae)) * size).quantize(_EIGHT)
            for name, derived in (("mfe_amount", mfe_amount), ("mae_amount", mae_amount),
                                  ("initial_risk", risk)):  # fmt: skip
                if derived is not None and abs(derived) > MAX_TRADE_MONEY:
                    check_trade_money(name, derived, f"{where} at {format_ts(t.entry_ts)}")
            is_open = t.exit_ts is None
            net = t.net_pnl
            extra = {
                "initial_stop": stop, "open_qty": t.open_qty / SCALE,
                "regime_method": regime.method if regime else method,
                "regime_version": regime.version if regime else None,
            }  # fmt: skip
            rows.append((
                t.id, d.user_id, d.run_id, d.account, d.symbol,
                "long" if t.direction > 0 else "short", t.qty / SCALE, t.max_position / SCALE,
                t.entry_ts, t.exit_ts, money(t.entry_price), money(t.exit_price),
                money(t.gross_pnl), money(t.commission), money(net), mfe, mae,
                amount(mfe_amount) if sqlite else mfe_amount,
                amount(mae_amount) if sqlite else mae_amount,
                efficiency, amount(risk) if sqlite else risk,
                None if is_open else r_multiple(Decimal(net).scaleb(-8), risk),
                regime.trend if regime else None, regime.volatility if regime else None,
                is_open, orjson.dumps(extra).decode(), stamp, multiplier,
            ))  # fmt: skip
    return rows


Floats = npt.NDArray[np.float64]


def _excursions(
    session: Session, d: Derivation, trades: list[TradeSums], until: int | None = None
) -> list[tuple[float | None, float | None, float | None]]:
    """(MFE, MAE, exit efficiency) of each trade from the finest stored bars, as
    excursions.excursion computes them one at a time, for all trades at once; all None
    without bars."""
    series = bars.series_by_timeframe(session, d.user_id, d.symbol)
    if not series:
        return [(None, None, None)] * len(trades)
    timeframe_s = min(series)
    exits = [t.exit_ts for t in trades]
    # An open trade reads the bars to the end of the series, unless the slice stops: else
    # every slice of a long position would read all the bars after it (quadratic).
    end = until if None in exits else max(e for e in exits if e is not None)
    bar_ts, _open, high, low, _close = bars.price_arrays(
        session, series[timeframe_s], trades[0].entry_ts, end
    )
    entry_ts = np.array([t.entry_ts for t in trades], dtype=np.int64)
    exit_ts = np.array([-1 if e is None else e for e in exits], dtype=np.int64)
    first = np.searchsorted(bar_ts, entry_ts, side="left")
    last = np.searchsorted(bar_ts, exit_ts - timeframe_s * NS, side="right")
    last[exit_ts < 0] = len(bar_ts)
    top = _range_reduce(np.maximum, high, first, last, -np.inf)
    bottom = _range_reduce(np.minimum, low, first, last, np.inf)
    out: list[tuple[float | None, float | None, float | None]] = []
    for t, h, lo in zip(trades, top.tolist(), bottom.tolist(), strict=True):
        entry = t.entry_price / SCALE
        high_, low_ = max(h, entry), min(lo, entry)
        exit_ = None if t.exit_price is None else t.exit_price / SCALE
        if exit_ is not None:
            high_, low_ = max(high_, exit_), min(low_, exit_)
        if t.direction > 0:
            mfe, mae = high_ - entry, entry - low_
            captured = None if exit_ is None else exit_ - entry
        else:
            mfe, mae = entry - low_, high_ - entry
            captured = None if exit_ is None else entry - exit_
        efficiency = captured / mfe if captured is not None and mfe > 0 else None
        out.append((round(max(mfe, 0.0), 8), round(max(mae, 0.0), 8), efficiency))
    return out


def _range_reduce(
    ufunc: Any,
    values: Floats,
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    empty: float,
) -> Floats:
    """ufunc over values[first[i]:last[i]] for each i; `empty` where a range is empty."""
    if len(values) == 0:
        return np.full(len(first), empty)
    padded = np.append(values, empty)  # so that an index may be len(values)
    bounds = np.empty(2 * len(first), dtype=np.int64)
    bounds[0::2], bounds[1::2] = first, last
    reduced = ufunc.reduceat(padded, bounds)[0::2]
    return np.where(last > first, reduced, empty)
