"""Run and portfolio analytics: metrics (stored with their version), series, breakdowns."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import starmap
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from backend.analytics import repository
from backend.analytics.breakdowns import breakdown, calendar
from backend.analytics.compare import ComparableTrade, match_trades
from backend.analytics.confidence import run_confidence
from backend.analytics.metrics import MIN_ANNUALISED_DAYS, VERSION, RunData, Undefined, compute_all
from backend.analytics.series import TradeCurve, downsample, epoch_date
from backend.analytics.table import UNIT, TradeTable
from backend.db.engine import Database
from backend.db.models import RunStatus, StrategyRun, Trade
from backend.errors import InvalidPayload, NotFound
from backend.ingest.timestamps import format_ts, format_ts_array
from backend.playbooks.expressions import playbook_name
from backend.playbooks.repository import mistake_names

log = logging.getLogger(__name__)
STORE_WAIT_MS = 50


def trade_table(
    session: Session,
    user_id: int,
    run_ids: Sequence[int] | None,
    instances: dict[int, str | None] | None = None,
    *,
    where: ColumnElement[bool] | None = None,
    playbooks: bool = False,
    mistakes: bool = False,
) -> TradeTable:
    """The closed trades of `run_ids` (all the user's runs when None) as columns; only
    those `where` holds for; with `playbooks`, each trade's playbook name too, with
    `mistakes` the names of its mistake tags."""
    extra = ((playbook_name(), "label") if playbooks else (Trade.id, "int"),)
    columns = repository.closed_trade_columns(
        session, user_id, run_ids, where=where, extra=extra if playbooks or mistakes else ()
    )
    tagged = None
    if mistakes:
        found = mistake_names(session, user_id)
        tagged = [found.get(int(t), ()) for t in columns[15]]
    (net, gross, commission, entry_ts, exit_ts, r_multiple, mfe, mae, move, symbol, direction,
     trend, volatility, run_id, tags) = columns[:15]  # fmt: skip
    sign = np.where(np.array(direction, dtype=object) == "long", 1.0, -1.0)
    return TradeTable.build(
        net=net, gross=gross, commission=commission, entry_ts=entry_ts, exit_ts=exit_ts,
        r_multiple=r_multiple, mfe=mfe, mae=mae,
        captured=np.array(move, dtype=np.float64) * sign,
        symbol=symbol, direction=direction, trend=trend, volatility=volatility,
        instance=[instances.get(r) for r in run_id] if instances is not None else None,
        tags=tags, playbook=columns[15] if playbooks else None, mistakes=tagged,
    )  # fmt: skip


def _run(session: Session, user_id: int, run_id: int) -> StrategyRun:
    run = repository.get_run(session, user_id, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def metrics_document(trades: TradeTable, initial_capital: float | None) -> dict[str, Any]:
    data = RunData(trades, initial_capital)
    values, undefined = compute_all(data)
    returns = data.returns
    return {
        **values,
        "undefined": undefined,
        "confidence": run_confidence(
            data.net, trades.r_multiple,
            returns.reason if isinstance(returns, Undefined) else returns,
            min_days=MIN_ANNUALISED_DAYS,
        ),  # fmt: skip
        "metrics_version": VERSION,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def run_metrics(session: Session, user_id: int, run_id: int, *, store: bool) -> dict[str, Any]:
    """Every metric of a run, computed now; `store` keeps it in `metrics_json`."""
    run = _run(session, user_id, run_id)
    document = metrics_document(trade_table(session, user_id, [run_id]), run.initial_capital)
    if store:
        run.metrics_json = document
        run.metrics_version = VERSION
        session.flush()
    return {"run_id": run_id, **document}


def store_metrics(db: Database, run_id: int, document: dict[str, Any]) -> None:
    """Keep a computed metrics document, in a short write of its own; skipped when busy.

    The stored copy is a cache (a run's final metrics are stored when it ends), so a
    write lock held for long by ingest is no reason to fail the read that computed it.
    """
    values = {key: value for key, value in document.items() if key != "run_id"}
    statement = (
        update(StrategyRun)
        .where(StrategyRun.id == run_id)
        .values(metrics_json=values, metrics_version=VERSION)
    )
    with db.engine.connect() as connection:
        try:
            if db.is_sqlite:  # ask for the write lock without queueing behind ingest
                connection.exec_driver_sql(f"PRAGMA busy_timeout={STORE_WAIT_MS}")
            connection.execute(statement)
            connection.commit()
        except OperationalError:
            connection.rollback()
            log.info("metrics of run %s not stored now: the database is busy writing", run_id)
        finally:
            if db.is_sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={db.busy_timeout_ms}")
                connection.commit()


def refresh_ended_runs(session: Session, run_ids: Sequence[int]) -> list[tuple[int, int]]:
    """Recompute and store the metrics of those of `run_ids` that have ended.

    Returns (user id, run id) of each run refreshed.
    """
    refreshed = []
    query = select(StrategyRun).where(
        StrategyRun.id.in_(run_ids), StrategyRun.status != RunStatus.RUNNING
    )
    for run in session.scalars(query):
        trades = trade_table(session, run.user_id, [run.id])
        run.metrics_json = metrics_document(trades, run.initial_capital)
        run.metrics_version = VERSION
        refreshed.append((run.user_id, run.id))
    session.flush()
    return refreshed


def run_series(
    session: Session, user_id: int, run_id: int, max_points: int | None = None
) -> dict[str, Any]:
    """Equity and drawdown after each exit, and daily PnL (UTC business days)."""
    run = _run(session, user_id, run_id)
    trades = trade_table(session, user_id, [run_id])
    return {"run_id": run_id, **curves(trades, run.initial_capital, max_points)}


def run_metrics_and_curves(
    session: Session, user_id: int, run_id: int
) -> tuple[dict[str, Any], Curves]:
    """`run_metrics` (not stored) and the `run_series` curves of a run, from one read of its
    closed trades; the report writes the curves' points a page at a time."""
    run = _run(session, user_id, run_id)
    trades = trade_table(session, user_id, [run_id])
    metrics = {"run_id": run_id, **metrics_document(trades, run.initial_capital)}
    return metrics, Curves.of(trades, run.initial_capital)


@dataclass(frozen=True)
class Curves:
    """Equity and drawdown after each exit (series.TradeCurve) with the exits' times, and
    the daily PnL of docs/metrics.md."""

    initial_capital: float | None
    exit_ts: npt.NDArray[np.int64]
    curve: TradeCurve
    daily: list[dict[str, Any]]

    @classmethod
    def of(cls, trades: TradeTable, initial_capital: float | None) -> Curves:
        data = RunData(trades, initial_capital)
        daily = [
            {"date": epoch_date(day).isoformat(), "net_pnl": pnl / UNIT}
            for day, pnl in zip(data.daily.days.tolist(), data.daily.pnl.tolist(), strict=True)
        ]
        return cls(initial_capital, trades.exit_ts, data.curve, daily)

    def __len__(self) -> int:
        return int(self.exit_ts.size)

    def points(self, rows: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
        """The curves' points after the exits `rows` (0-based), JSON-ready; `n` numbers
        the trade from 1."""
        curve = self.curve
        return [
            {"n": n, "ts": ts, "equity": e, "drawdown": d, "drawdown_pct": None if p != p else p}
            for n, ts, e, d, p in zip(
                (rows + 1).tolist(), format_ts_array(self.exit_ts[rows]),
                (curve.equity[rows] / UNIT).tolist(), (curve.drawdown[rows] / UNIT).tolist(),
                curve.percent[rows].tolist(), strict=True,
            )  # NaN percent: none
        ]  # fmt: skip


def curves(
    trades: TradeTable, initial_capital: float | None, max_points: int | None = None
) -> dict[str, Any]:
    """Equity and drawdown after each exit, and the daily PnL of docs/metrics.md.

    With `max_points`, at most that many points of the curves (series.downsample: the
    peak and the trough kept exactly); each point carries its trade number `n`.
    """
    made = Curves.of(trades, initial_capital)
    curve, count = made.curve, len(trades)
    rows = (
        downsample(count, max_points, (curve.equity, curve.drawdown, curve.percent))
        if max_points is not None
        else np.arange(count)
    )
    return {
        "initial_capital": initial_capital,
        "points_total": count,
        "downsampled": rows.size < count,
        "equity": made.points(rows),
        "daily": made.daily,
    }


def _instances(session: Session, user_id: int) -> dict[int, str | None]:
    return {run.id: instance for run, _s, instance in repository.runs(session, user_id)}


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def run_breakdown(
    session: Session, user_id: int, timezone: str, run_id: int, by: str
) -> dict[str, Any]:
    _run(session, user_id, run_id)
    instances = _instances(session, user_id)
    trades = trade_table(
        session, user_id, [run_id], instances, playbooks=by == "playbook", mistakes=by == "mistake"
    )
    return _breakdown(trades, by, timezone)


def _breakdown(trades: TradeTable, by: str, timezone: str) -> dict[str, Any]:
    try:
        groups = breakdown(trades, by, _zone(timezone))
    except ValueError as exc:
        raise InvalidPayload(str(exc)) from None
    return {"by": by, "timezone": timezone, "groups": groups}


def run_calendar(session: Session, user_id: int, timezone: str, run_id: int) -> dict[str, Any]:
    _run(session, user_id, run_id)
    trades = trade_table(session, user_id, [run_id])
    return {"timezone": timezone, "days": calendar(trades, _zone(timezone))}


def portfolio(
    session: Session,
    user_id: int,
    timezone: str,
    *,
    mode: str | None,
    strategy: str | None,
    max_points: int | None = None,
) -> dict[str, Any]:
    """All matching runs combined: headline metrics, curves, calendar.

    The combined initial capital is the sum of the runs' capitals, and only when
    every run has one (otherwise ratio metrics are null with the reason).
    `runs_by_mode` counts the runs added up, per mode, so a page can say what it sums.
    """
    runs = repository.runs(session, user_id, mode=mode, strategy=strategy)
    run_ids = [run.id for run, _s, _i in runs]
    capitals = [run.initial_capital for run, _s, _i in runs]
    capital = sum(c for c in capitals if c is not None) if runs and None not in capitals else None
    by_mode: dict[str, int] = {}
    for run, _s, _i in runs:
        by_mode[str(run.mode)] = by_mode.get(str(run.mode), 0) + 1
    trades = trade_table(session, user_id, run_ids)
    return {
        "run_ids": run_ids,
        "mode": mode,
        "runs_by_mode": by_mode,
        "metrics": metrics_document(trades, capital),
        **curves(trades, capital, max_points),
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
    instances = _instances(session, user_id)
    trades = trade_table(
        session, user_id, run_ids, instances, playbooks=by == "playbook", mistakes=by == "mistake"
    )
    return _breakdown(trades, by, timezone)


def compare(
    session: Session,
    user_id: int,
    run_a: int,
    run_b: int,
    tolerance_s: float,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """Trades of run B matched to run A's, with slippage, PnL differences and metric deltas.

    The summary and `counts` cover every trade; the lists `matched`, `only_a` and
    `only_b` hold the rows `offset` to `offset + limit` of each (a page).
    """
    runs = {run_id: _run(session, user_id, run_id) for run_id in (run_a, run_b)}
    trades = {
        run_id: list(starmap(ComparableTrade, repository.comparable_rows(session, user_id, run_id)))
        for run_id in runs
    }
    matches, only_a, only_b = match_trades(trades[run_a], trades[run_b], int(tolerance_s * 1e9))
    metrics = {
        run_id: metrics_document(trade_table(session, user_id, [run_id]), run.initial_capital)
        for run_id, run in runs.items()
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
            "entry_price": t.entry_price / UNIT,
            "exit_price": t.exit_price / UNIT if t.exit_price is not None else None,
            "net_pnl": t.net_pnl / UNIT,
        }  # fmt: skip

    slippage = [m.exit_slippage for m in matches if m.exit_slippage is not None]
    end = None if limit is None else offset + limit
    return {
        "a": run_a,
        "b": run_b,
        "tolerance_s": tolerance_s,
        "offset": offset,
        "limit": limit,
        "counts": {"matched": len(matches), "only_a": len(only_a), "only_b": len(only_b)},
        "matched": [
            {
                "a": trade(m.a),
                "b": trade(m.b),
                "entry_delay_s": m.entry_delay_s,
                "entry_slippage": m.entry_slippage / UNIT,
                "exit_slippage": m.exit_slippage / UNIT if m.exit_slippage is not None else None,
                "pnl_difference": m.pnl_difference / UNIT,
            }
            for m in matches[offset:end]
        ],  # fmt: skip
        "only_a": [trade(t) for t in only_a[offset:end]],
        "only_b": [trade(t) for t in only_b[offset:end]],
        "summary": {
            "matched": len(matches),
            "mean_entry_slippage": (
                sum(m.entry_slippage for m in matches) / (len(matches) * UNIT) if matches else None
            ),
            "mean_exit_slippage": sum(slippage) / (len(slippage) * UNIT) if slippage else None,
            "pnl_difference": sum(m.pnl_difference for m in matches) / UNIT,
        },
        "metrics": {"a": metrics[run_a], "b": metrics[run_b], "delta": deltas},
    }
