"""Rebuilding a position's trades after its fills changed, and enriching them.

`rebuild_position` is the deriver the ingest pipeline runs for each position a
batch touched (see backend/ingest/derivations.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from backend.ingest.derivations import Derivation
from backend.ingest.domain import MAX_TRADE_MONEY, DomainError, check_trade_money
from backend.ingest.timestamps import format_ts
from backend.market import repository as bars
from backend.regimes.service import regime_at_entries
from backend.trades import kernel, repository
from backend.trades.excursions import excursion
from backend.trades.incremental import plan_rebuild
from backend.trades.reconstruct import Fill, TradeResult, reconstruct
from backend.trades.risk import initial_risk, initial_stop, r_multiple

# Fills one rebuild replays at most, so that its transaction holds SQLite's write lock for
# milliseconds, not seconds, when a long stretch is stale (a backtest's push, a backlog).
SLICE_FILLS = 500


def rebuild_position(
    session: Session, derivation: Derivation, slice_fills: int | None = None
) -> int | None:
    """Re-derive the trades of one (run, account, symbol) from `derivation.from_ts` on.

    At most `slice_fills` fills at a time: when more are stale, the trades up to the
    cut are stored (the one open there as open) and the time of the first fill left is
    returned, from which the next slice goes on (plan_rebuild replaces that open trade
    and replays from where the position was flat). None when the position is done.
    """
    try:
        return _rebuild(session, derivation, SLICE_FILLS if slice_fills is None else slice_fills)
    except InvalidOperation:  # a Decimal past 28 digits: far beyond the trade money domain
        raise DomainError(
            f"{derivation.symbol}: a trade's amounts are beyond the {MAX_TRADE_MONEY:,} a "
            "trade may amount to; check the instrument's multiplier and the fills' qty and price"
        ) from None


def _rebuild(session: Session, d: Derivation, slice_fills: int) -> int | None:
    kernel.start_warm_up()  # in the background, once; until it is ready, pure Python serves
    multiplier, default_risk = repository.instrument(session, d.user_id, d.symbol)
    plan = plan_rebuild(
        repository.stored_trades(session, d.run_id, d.account, d.symbol, d.from_ts), d.from_ts
    )
    seed: list[repository.ReplayRow] = []
    if plan.seed_trade is not None:  # read before the trade's rows are deleted below
        # From flat, a fill of the part it opened with opens the same trade (Position.resume)
        seed = [repository.crossing_entry(session, plan.seed_trade)]
        key, inclusive = (seed[0][1], seed[0][0]), False
    else:
        key, inclusive = plan.replay_after, True
    kept = repository.user_annotations(session, plan.replace)
    repository.delete_trades(session, plan.replace)
    fills = seed + repository.replay(
        session, d.run_id, d.account, d.symbol, key, inclusive=inclusive, limit=slice_fills + 1
    )
    resume: int | None = None
    if len(fills) > slice_fills:
        resume = fills[slice_fills][1]
        trades, parts = derive(fills[:slice_fills], multiplier)
        if trades[-1].is_open and trades[-1].id == fills[0][0]:
            # One trade spans the whole slice: the next would start where this one did.
            # Never flat for that long, the position is rebuilt in one go.
            resume = None
            fills = seed + repository.replay(
                session, d.run_id, d.account, d.symbol, key, inclusive=inclusive
            )
        else:
            fills = fills[:slice_fills]
    if resume is None:
        trades, parts = derive(fills, multiplier)
    if not trades:
        return None
    entry_orders = {row[0]: row[6] for row in fills}
    rows = _enrich(session, d, trades, entry_orders, multiplier, default_risk)
    for row in rows:
        for name in _MONEY:
            check_trade_money(name, row[name], f"{d.symbol} trade at {format_ts(row['entry_ts'])}")
    for row in rows:  # every row carries the same keys: one executemany
        row.update(kept.get(row["id"], {"notes": None, "setup": None}))
    repository.insert_trades(session, rows, parts)
    return resume


_MONEY = ("gross_pnl", "commission", "net_pnl", "mfe_amount", "mae_amount", "initial_risk")


def derive(
    fills: Sequence[Sequence[Any]], multiplier: float
) -> tuple[list[TradeResult], list[repository.PartRow]]:
    """Trades and the rows of their fill parts, from flat, for fills given as (seq, ts, side,
    qty, price, commission, ...) in (ts, seq) order. The trades' own `fills` may be empty.

    The compiled kernel when it is ready and the values fit it, else reconstruct();
    both give the same trades and parts (tests/trades/test_kernel.py).
    """
    matched = kernel.compute(*kernel.columns(fills)) if fills and kernel.ready() else None
    if matched is not None:
        return kernel.results(matched, multiplier, parts=False), kernel.part_rows(matched)
    trades = reconstruct([Fill(*row[:6]) for row in fills], multiplier)
    parts = [
        (t.id, p.seq, p.role, float(p.qty), int(p.commission.scaleb(8)))
        for t in trades
        for p in t.fills
    ]
    return trades, parts


def _enrich(
    session: Session,
    d: Derivation,
    trades: list[TradeResult],
    entry_orders: dict[int, str | None],
    multiplier: float,
    default_risk: float | None,
) -> list[dict[str, Any]]:
    """Excursions from the finest stored bars, initial risk and R from the run's stops."""
    series = bars.series_by_timeframe(session, d.user_id, d.symbol)
    if series:
        timeframe_s = min(series)
        first = min(t.entry_ts for t in trades)
        bar_ts, _open, high, low, _close = bars.price_arrays(
            session, series[timeframe_s], first, None
        )
    else:
        timeframe_s, bar_ts = 0, np.empty(0, dtype=np.int64)
        high = low = np.empty(0, dtype=np.float64)
    method = repository.regime_method(session, d.user_id)
    regimes = regime_at_entries(session, d.user_id, d.symbol, [t.entry_ts for t in trades], method)
    stops = repository.stop_orders(session, d.run_id, d.symbol)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for t, regime in zip(trades, regimes, strict=True):
        exit_price = float(t.exit_price) if t.exit_price is not None else None
        excursion_ = (
            excursion(t.direction, float(t.entry_price), exit_price, t.entry_ts, t.exit_ts,
                      bar_ts, high, low, timeframe_s)
            if series
            else None
        )  # fmt: skip
        stop = initial_stop(t.direction, t.entry_ts, entry_orders.get(t.id), stops)
        risk = initial_risk(t.entry_price, t.qty, multiplier, stop, default_risk)
        size = t.max_position * Decimal(str(multiplier))
        rows.append(
            {
                "id": t.id, "user_id": d.user_id, "run_id": d.run_id, "account": d.account,
                "symbol": d.symbol, "direction": t.direction, "qty": float(t.qty),
                "max_position": float(t.max_position), "entry_ts": t.entry_ts,
                "exit_ts": t.exit_ts, "entry_price": t.entry_price, "exit_price": t.exit_price,
                "gross_pnl": t.gross_pnl, "commission": t.commission, "net_pnl": t.net_pnl,
                "mfe": excursion_.mfe if excursion_ else None,
                "mae": excursion_.mae if excursion_ else None,
                "mfe_amount": _amount(excursion_.mfe, size) if excursion_ else None,
                "mae_amount": _amount(excursion_.mae, size) if excursion_ else None,
                "exit_efficiency": excursion_.efficiency if excursion_ else None,
                "initial_risk": risk,
                "r_multiple": r_multiple(t.net_pnl, risk) if not t.is_open else None,
                "is_open": t.is_open, "tags": [],
                "regime_trend": regime.trend if regime else None,
                "regime_volatility": regime.volatility if regime else None,
                "extra": {
                    "initial_stop": stop, "open_qty": float(t.open_qty),
                    "regime_method": regime.method if regime else method,
                    "regime_version": regime.version if regime else None,
                },
                "updated_at": now, "multiplier": multiplier,
            }
        )  # fmt: skip
    return rows


def _amount(distance: float, size: Decimal) -> Decimal:
    return (Decimal(str(distance)) * size).quantize(Decimal("0.00000001"))
