"""A run's data as the training node wants it: bars, regime codes, positions, trades.

Bars are the user's market bars of the run's symbol over the run's span (every
stored bar when the run has no span yet). Regime codes are the tags in effect
at each bar's open, from bars closed by then (no look-ahead). The strategy's
position over a bar is its net position after every fill before the bar closed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import Execution, StrategyRun, Trade
from backend.errors import InvalidPayload
from backend.market import repository as market_repository
from backend.market import service as market
from backend.market.resample import NS_PER_SECOND
from backend.market.timeframes import parse_timeframe
from backend.regimes.classify import TRENDS, VOLATILITIES
from backend.regimes.service import regime_at_entries
from backend.trades import repository as trades_repository
from backend.training.schemas import TrainingCreate
from services.training_node.settings import TrainRequest

MAX_BARS = 500_000
"""Most bars one training request carries."""


def main_symbol(session: Session, run: StrategyRun) -> str | None:
    """The symbol the run filled most (by fill count)."""
    row = session.execute(
        select(Execution.symbol, func.count())
        .where(Execution.run_id == run.id, Execution.removed_at.is_(None))
        .group_by(Execution.symbol)
        .order_by(func.count().desc(), Execution.symbol)
        .limit(1)
    ).first()
    return None if row is None else str(row[0])


def build_request(session: Session, run: StrategyRun, body: TrainingCreate) -> dict[str, Any]:
    """The node's `POST /train` body for `run`, validated against the node's own model."""
    symbol = body.symbol or main_symbol(session, run)
    if symbol is None:
        raise InvalidPayload("symbol: the run has no fills; name the symbol to train on")
    stored = market_repository.series_by_timeframe(session, run.user_id, symbol)
    if not stored:
        raise InvalidPayload(f"symbol: no bars of {symbol!r} are stored to train on")
    if body.timeframe is None:
        timeframe_s = min(stored)
    else:
        try:
            timeframe_s = parse_timeframe(body.timeframe)
        except ValueError as exc:
            raise InvalidPayload(f"timeframe: {exc}") from None
    end = None if run.ended_ts is None else run.ended_ts + 1
    page = market.read_bars(
        session, stored, market.BarsQuery(symbol, timeframe_s, run.started_ts, end, MAX_BARS)
    )
    columns = page.columns
    ts = np.asarray(columns["ts"], dtype=np.int64)
    keep = np.isfinite(columns["close"])  # aggregated buckets without trades have no close
    ts = ts[keep]
    close_ns = ts + timeframe_s * NS_PER_SECOND
    tags = regime_at_entries(
        session,
        run.user_id,
        symbol,
        ts.tolist(),
        trades_repository.regime_method(session, run.user_id),
    )
    fills = _fills(session, run.id, symbol)
    volume = np.nan_to_num(np.asarray(columns["volume"], dtype=np.float64)[keep])
    environment = body.environment
    if "periods_per_year" not in environment.model_fields_set:
        environment = environment.model_copy(
            update={"periods_per_year": 252.0 * max(1.0, 86_400 / timeframe_s)}
        )
    payload: dict[str, Any] = {
        "run_id": run.id,
        "model_architecture": body.model_architecture.model_dump(),
        "hyperparameters": body.hyperparameters.model_dump(),
        "environment": environment.model_dump(),
        "data": {
            "symbol": symbol,
            "timeframe_s": timeframe_s,
            "bars": {
                "ts": ts.tolist(),
                "open": _finite(columns["open"][keep]),
                "high": _finite(columns["high"][keep]),
                "low": _finite(columns["low"][keep]),
                "close": columns["close"][keep].tolist(),
                "volume": volume.tolist(),
            },
            "regime": {
                "trend": [-1 if t is None else TRENDS.index(t.trend) for t in tags],
                "volatility": [-1 if t is None else VOLATILITIES.index(t.volatility) for t in tags],
                "trend_labels": list(TRENDS),
                "volatility_labels": list(VOLATILITIES),
            },
            "strategy_position": positions_at(fills, close_ns).tolist(),
            "fills": fills,
            "trades": _trades(session, run.id, symbol),
            "initial_capital": run.initial_capital,
        },
    }
    try:
        TrainRequest.model_validate(payload)
    except ValidationError as exc:
        raise InvalidPayload(_describe(exc)) from None
    return payload


def _finite(values: Any) -> list[float]:
    return [float(v) for v in values]


def _fills(session: Session, run_id: int, symbol: str) -> list[dict[str, Any]]:
    """The run's standing fills of `symbol`, in the order they apply."""
    rows = session.execute(
        select(Execution.ts, Execution.side, Execution.qty, Execution.price, Execution.commission)
        .where(
            Execution.run_id == run_id,
            Execution.symbol == symbol,
            Execution.removed_at.is_(None),
        )
        .order_by(Execution.ts, Execution.id)
    ).all()
    return [
        {"ts": r[0], "side": r[1], "qty": r[2], "price": r[3], "commission": r[4]} for r in rows
    ]


def positions_at(fills: list[dict[str, Any]], times_ns: Any) -> Any:
    """The net position after every fill with `ts < t`, for each `t` (fills in order)."""
    if not fills:
        return np.zeros(len(times_ns))
    fill_ts = np.fromiter((f["ts"] for f in fills), dtype=np.int64, count=len(fills))
    signed = np.fromiter(
        (f["qty"] if f["side"] == "buy" else -f["qty"] for f in fills),
        dtype=np.float64,
        count=len(fills),
    )
    after = np.concatenate([[0.0], np.cumsum(signed)])
    return after[np.searchsorted(fill_ts, np.asarray(times_ns, dtype=np.int64), side="left")]


def _trades(session: Session, run_id: int, symbol: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Trade.direction,
            Trade.entry_ts,
            Trade.exit_ts,
            Trade.qty,
            Trade.entry_price,
            Trade.exit_price,
            Trade.net_pnl,
        )
        .where(Trade.run_id == run_id, Trade.symbol == symbol)
        .order_by(Trade.entry_ts)
    ).all()
    return [
        {
            "direction": r[0],
            "entry_ts": r[1],
            "exit_ts": r[2],
            "qty": r[3],
            "entry_price": float(r[4]),
            "exit_price": None if r[5] is None else float(r[5]),
            "net_pnl": float(r[6]),
        }
        for r in rows
    ]


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{field}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)
