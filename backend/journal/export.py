"""A user's journal as JSON lines: what they sent and wrote, never what is derived from it.

One JSON object per line, each with a `kind`: a `header`, then `instrument`,
`market_bar`, `run` and, per run, its `order_event`, `execution` and `run_bar`
records in arrival order, then `rejected_event` and `trade_annotation` records, then
what the trader journaled (backend/playbooks/transfer.py): `playbook`, `mistake`,
`trade_journal`, `journal_day` and `journal_template` records, `webhook_endpoint` records
(url, events, enabled; never the signing secret), and `attachment`
records (the images, in base64: backend/attachments/transfer.py).
Trades, regimes and metrics are rebuilt from these on import, exactly as on
ingest; a trade's notes, tags and setup are keyed by the exec id of its first
fill, which is what a trade's identity is built on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from backend.attachments.transfer import export_records as attachment_records
from backend.db.models import (
    Bar,
    Execution,
    Instrument,
    MarketBar,
    MarketSeries,
    OrderEvent,
    RejectedEvent,
    RunSeries,
    Strategy,
    StrategyInstance,
    StrategyRun,
    Trade,
    User,
)
from backend.playbooks import transfer
from backend.webhooks import transfer as webhook_transfer

FORMAT = "fillbook-journal"
VERSION = 1
_CHUNK = 5000
_OHLCV = ("open", "high", "low", "close", "volume", "bid_volume", "ask_volume")
ORDER_FIELDS = ("event_id", "order_id", "ts", "symbol", "side", "order_type", "qty", "status",
                "limit_price", "stop_price", "tif", "parent_id", "filled_qty", "avg_fill_price",
                "reason")  # fmt: skip
EXECUTION_FIELDS = ("exec_id", "order_id", "ts", "symbol", "side", "qty", "price", "commission",
                    "account", "liquidity")  # fmt: skip


def export_lines(session: Session, user: User, data_dir: Path) -> Iterator[bytes]:
    """The journal of `user`, one encoded JSON line (with its newline) at a time; the
    attachment files are read from `data_dir`."""
    for record in export_records(session, user, data_dir):
        yield orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def export_records(session: Session, user: User, data_dir: Path) -> Iterator[dict[str, Any]]:
    uid = user.id
    yield {"kind": "header", "format": FORMAT, "version": VERSION, "username": user.username,
           "exported_at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    for instrument in session.scalars(
        select(Instrument).where(Instrument.user_id == uid).order_by(Instrument.symbol)
    ):
        yield {"kind": "instrument", "symbol": instrument.symbol,
               "multiplier": instrument.multiplier, "tick_size": instrument.tick_size,
               "currency": instrument.currency, "asset_class": instrument.asset_class,
               "default_risk": instrument.default_risk}  # fmt: skip
    market = (
        select(MarketSeries.symbol, MarketSeries.timeframe_s, MarketBar)
        .join(MarketBar, MarketBar.series_id == MarketSeries.id)
        .where(MarketSeries.user_id == uid)
        .order_by(MarketSeries.symbol, MarketSeries.timeframe_s, MarketBar.ts)
    )
    for symbol, timeframe_s, bar in session.execute(market.execution_options(yield_per=_CHUNK)):
        yield {"kind": "market_bar", "symbol": symbol, "timeframe_s": timeframe_s, "ts": bar.ts,
               **{name: getattr(bar, name) for name in _OHLCV}}  # fmt: skip
    instance = aliased(StrategyInstance)
    runs = session.execute(
        select(StrategyRun, Strategy.name, instance.name)
        .join(Strategy, Strategy.id == StrategyRun.strategy_id)
        .outerjoin(instance, instance.id == StrategyRun.instance_id)
        .where(StrategyRun.user_id == uid)
        .order_by(StrategyRun.id)
    ).all()
    for run, strategy, instance_name in runs:
        ref = {"source": run.source, "run_key": run.key}
        yield {"kind": "run", "source": run.source, "key": run.key, "strategy": strategy,
               "instance": instance_name, "mode": str(run.mode), "params": run.params,
               "initial_capital": run.initial_capital, "status": str(run.status),
               "ended_ts": run.ended_ts}  # fmt: skip
        yield from _run_records(session, run.id, ref)
    rejected = select(RejectedEvent).where(RejectedEvent.user_id == uid).order_by(RejectedEvent.id)
    keys = {run.id: run.key for run, _s, _i in runs}
    for item in session.scalars(rejected.execution_options(yield_per=_CHUNK)):
        yield {"kind": "rejected_event", "source": item.source,
               "run_key": keys.get(item.run_id or 0),
               "batch_index": item.batch_index, "event_id": item.event_id,
               "event_type": item.event_type, "raw": item.raw, "error": item.error,
               "received_at": item.received_at.isoformat()}  # fmt: skip
    annotated = (
        select(Trade, Execution.source, Execution.exec_id, StrategyRun.key)
        .join(Execution, Execution.id == Trade.id)  # a trade's id is its first fill's
        .join(StrategyRun, StrategyRun.id == Trade.run_id)
        .where(Trade.user_id == uid)
        .order_by(Trade.id)
    )
    for trade, source, exec_id, run_key in session.execute(annotated):
        if trade.notes is None and not trade.tags and trade.setup is None:
            continue
        yield {"kind": "trade_annotation", "source": source, "run_key": run_key,
               "first_exec_id": exec_id, "notes": trade.notes, "tags": trade.tags or [],
               "setup": trade.setup}  # fmt: skip
    yield from transfer.export_records(session, uid)
    yield from webhook_transfer.export_records(session, uid)
    yield from attachment_records(session, uid, data_dir)


def _run_records(session: Session, run_id: int, ref: dict[str, Any]) -> Iterator[dict[str, Any]]:
    orders = select(OrderEvent).where(OrderEvent.run_id == run_id).order_by(OrderEvent.id)
    for event in session.scalars(orders.execution_options(yield_per=_CHUNK)):
        yield {"kind": "order_event", **ref, **{f: getattr(event, f) for f in ORDER_FIELDS}}
    fills = select(Execution).where(Execution.run_id == run_id).order_by(Execution.id)
    for fill in session.scalars(fills.execution_options(yield_per=_CHUNK)):
        yield {"kind": "execution", **ref, **{f: getattr(fill, f) for f in EXECUTION_FIELDS},
               "removed": fill.removed_at is not None}  # fmt: skip
    bars = (
        select(RunSeries.symbol, RunSeries.timeframe_s, Bar)
        .join(Bar, Bar.series_id == RunSeries.id)
        .where(RunSeries.run_id == run_id)
        .order_by(RunSeries.symbol, RunSeries.timeframe_s, Bar.ts)
    )
    for symbol, timeframe_s, bar in session.execute(bars.execution_options(yield_per=_CHUNK)):
        yield {"kind": "run_bar", **ref, "symbol": symbol, "timeframe_s": timeframe_s,
               "ts": bar.ts, **{name: getattr(bar, name) for name in _OHLCV},
               "values": bar.values}  # fmt: skip
