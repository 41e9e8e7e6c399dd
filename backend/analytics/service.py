"""Run and portfolio analytics: metrics (stored with their version), series, breakdowns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.analytics import repository
from backend.analytics.breakdowns import TradeFacts, breakdown, calendar
from backend.analytics.compare import ComparableTrade, match_trades
from backend.analytics.metrics import VERSION, ClosedTrade, RunData, compute_all
from backend.analytics.series import epoch_date
from backend.db.models import RunStatus, StrategyRun
from backend.errors import InvalidPayload, NotFound
from backend.ingest.timestamps import format_ts


def to_closed(row: Any) -> ClosedTrade:
    sign = 1 if row.direction == "long" else -1
    captured = (
        float((row.exit_price - row.entry_price) * sign) if row.exit_price is not None else None
    )
    return ClosedTrade(
        net_pnl=Decimal(row.net_pnl), gross_pnl=Decimal(row.gross_pnl),
        commission=Decimal(row.commission), entry_ts=row.entry_ts, exit_ts=row.exit_ts,
        r_multiple=row.r_multiple, mfe=row.mfe, mae=row.mae, captured=captured,
    )  # fmt: skip


def _run(session: Session, user_id: int, run_id: int) -> StrategyRun:
    run = repository.get_run(session, user_id, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def metrics_document(
    trades: Sequence[ClosedTrade], initial_capital: float | None
) -> dict[str, Any]:
    values, undefined = compute_all(RunData(trades, initial_capital))
    return {
        **values,
        "undefined": undefined,
        "metrics_version": VERSION,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def run_metrics(session: Session, user_id: int, run_id: int, *, store: bool) -> dict[str, Any]:
    """Every metric of a run, computed now; `store` keeps it in `metrics_json`."""
    run = _run(session, user_id, run_id)
    trades = [to_closed(r) for r in repository.closed_trades(session, user_id, [run_id])]
    document = metrics_document(trades, run.initial_capital)
    if store:
        run.metrics_json = document
        run.metrics_version = VERSION
        session.flush()
    return {"run_id": run_id, **document}


def refresh_ended_runs(session: Session, run_ids: Sequence[int]) -> list[tuple[int, int]]:
    """Recompute and store the metrics of those of `run_ids` that have ended.

    Returns (user id, run id) of each run refreshed.
    """
    refreshed = []
    query = select(StrategyRun).where(
        StrategyRun.id.in_(run_ids), StrategyRun.status != RunStatus.RUNNING
    )
    for run in session.scalars(query):
        trades = [to_closed(r) for r in repository.closed_trades(session, run.user_id, [run.id])]
        run.metrics_json = metrics_document(trades, run.initial_capital)
        run.metrics_version = VERSION
        refreshed.append((run.user_id, run.id))
    session.flush()
    return refreshed


def run_series(session: Session, user_id: int, run_id: int) -> dict[str, Any]:
    """Equity and drawdown after each exit, and daily PnL (UTC business days)."""
    run = _run(session, user_id, run_id)
    trades = [to_closed(r) for r in repository.closed_trades(session, user_id, [run_id])]
    return {"run_id": run_id, **curves(trades, run.initial_capital)}


def curves(trades: Sequence[ClosedTrade], initial_capital: float | None) -> dict[str, Any]:
    base = Decimal(str(initial_capital)) if initial_capital is not None else Decimal(0)
    equity, peak = base, base
    points = []
    for trade in trades:
        equity += trade.net_pnl
        peak = max(peak, equity)
        drawdown = equity - peak
        points.append(
            {
                "ts": format_ts(trade.exit_ts),
                "equity": float(equity),
                "drawdown": float(drawdown),
                "drawdown_pct": float(drawdown / peak) if initial_capital and peak > 0 else None,
            }
        )
    data = RunData(trades, initial_capital)
    daily = [
        {"date": epoch_date(int(day)).isoformat(), "net_pnl": float(pnl)}
        for day, pnl in zip(data.daily.days, data.daily.pnl, strict=True)
    ]
    return {"initial_capital": initial_capital, "equity": points, "daily": daily}


def _facts(session: Session, user_id: int, run_ids: Sequence[int] | None) -> list[TradeFacts]:
    instances = {run.id: instance for run, _s, instance in repository.runs(session, user_id)}
    return [
        TradeFacts(
            to_closed(row), row.symbol, row.direction, row.regime_trend, row.regime_volatility,
            instances.get(row.run_id), tuple(row.tags or ()),
        )
        for row in repository.closed_trades(session, user_id, run_ids)
    ]  # fmt: skip


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def run_breakdown(
    session: Session, user_id: int, timezone: str, run_id: int, by: str
) -> dict[str, Any]:
    _run(session, user_id, run_id)
    return _breakdown(_facts(session, user_id, [run_id]), by, timezone)


def _breakdown(facts: list[TradeFacts], by: str, timezone: str) -> dict[str, Any]:
    try:
        groups = breakdown(facts, by, _zone(timezone))
    except ValueError as exc:
        raise InvalidPayload(str(exc)) from None
    return {"by": by, "timezone": timezone, "groups": groups}


def run_calendar(session: Session, user_id: int, timezone: str, run_id: int) -> dict[str, Any]:
    _run(session, user_id, run_id)
    facts = _facts(session, user_id, [run_id])
    return {"timezone": timezone, "days": calendar([f.trade for f in facts], _zone(timezone))}


def portfolio(
    session: Session, user_id: int, timezone: str, *, mode: str | None, strategy: str | None
) -> dict[str, Any]:
    """All matching runs combined: headline metrics, curves, calendar.

    The combined initial capital is the sum of the runs' capitals, and only when
    every run has one (otherwise ratio metrics are null with the reason).
    """
    runs = repository.runs(session, user_id, mode=mode, strategy=strategy)
    run_ids = [run.id for run, _s, _i in runs]
    capitals = [run.initial_capital for run, _s, _i in runs]
    capital = sum(c for c in capitals if c is not None) if runs and None not in capitals else None
    facts = _facts(session, user_id, run_ids)
    trades = [f.trade for f in facts]
    return {
        "run_ids": run_ids,
        "metrics": metrics_document(trades, capital),
        **curves(trades, capital),
        "calendar": calendar(trades, _zone(timezone)),
    }


def portfolio_breakdown(
    session: Session,
    user_id: int,
    timezone: str,
    by: str,
    *,
    mode: str | None,
    strategy: str | None,
) -> dict[str, Any]:
    run_ids = [
        run.id for run, _s, _i in repository.runs(session, user_id, mode=mode, strategy=strategy)
    ]
    return _breakdown(_facts(session, user_id, run_ids), by, timezone)


def _comparable(row: Any) -> ComparableTrade:
    return ComparableTrade(
        id=row.id, symbol=row.symbol, direction=row.direction, entry_ts=row.entry_ts,
        exit_ts=row.exit_ts, entry_price=Decimal(row.entry_price),
        exit_price=Decimal(row.exit_price) if row.exit_price is not None else None,
        net_pnl=Decimal(row.net_pnl),
    )  # fmt: skip


def compare(
    session: Session, user_id: int, run_a: int, run_b: int, tolerance_s: float
) -> dict[str, Any]:
    """Trades of run B matched to run A's, with slippage, PnL differences and metric deltas."""
    runs = {run_id: _run(session, user_id, run_id) for run_id in (run_a, run_b)}
    rows = {
        run_id: repository.closed_trades(session, user_id, [run_id]) for run_id in (run_a, run_b)
    }
    matches, only_a, only_b = match_trades(
        [_comparable(r) for r in rows[run_a]],
        [_comparable(r) for r in rows[run_b]],
        int(tolerance_s * 1e9),
    )
    metrics = {
        run_id: metrics_document([to_closed(r) for r in rows[run_id]], runs[run_id].initial_capital)
        for run_id in (run_a, run_b)
    }
    deltas = {
        name: metrics[run_b][name] - value
        for name, value in metrics[run_a].items()
        if isinstance(value, int | float) and isinstance(metrics[run_b].get(name), int | float)
    }

    def trade(t: ComparableTrade) -> dict[str, Any]:
        return {
            "id": t.id, "symbol": t.symbol, "direction": t.direction,
            "entry_ts": format_ts(t.entry_ts),
            "exit_ts": format_ts(t.exit_ts) if t.exit_ts is not None else None,
            "entry_price": float(t.entry_price),
            "exit_price": float(t.exit_price) if t.exit_price is not None else None,
            "net_pnl": float(t.net_pnl),
        }  # fmt: skip

    slippage = [m.exit_slippage for m in matches if m.exit_slippage is not None]
    return {
        "a": run_a,
        "b": run_b,
        "tolerance_s": tolerance_s,
        "matched": [
            {
                "a": trade(m.a),
                "b": trade(m.b),
                "entry_delay_s": m.entry_delay_s,
                "entry_slippage": float(m.entry_slippage),
                "exit_slippage": float(m.exit_slippage) if m.exit_slippage is not None else None,
                "pnl_difference": float(m.pnl_difference),
            }
            for m in matches
        ],  # fmt: skip
        "only_a": [trade(t) for t in only_a],
        "only_b": [trade(t) for t in only_b],
        "summary": {
            "matched": len(matches),
            "mean_entry_slippage": (
                float(sum((m.entry_slippage for m in matches), Decimal(0)) / len(matches))
                if matches
                else None
            ),
            "mean_exit_slippage": float(sum(slippage, Decimal(0)) / len(slippage))
            if slippage
            else None,
            "pnl_difference": float(sum((m.pnl_difference for m in matches), Decimal(0))),
        },
        "metrics": {"a": metrics[run_a], "b": metrics[run_b], "delta": deltas},
    }
