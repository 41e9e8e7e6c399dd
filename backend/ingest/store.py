"""Store one validated batch inside the writer's transaction (docs/ingest.md, "Identity")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import orjson

from backend.db.errors import is_storage_full, is_transient
from backend.errors import InvalidPayload
from backend.ingest.batch import PositionKey, PreparedBatch, Rejection, StoredBatch, raw_text
from backend.ingest.repository import IngestRepository, json_text

_INSTRUMENT_DEFAULTS = (1.0, None, None, None)  # multiplier, tick_size, currency, asset_class
_INSTRUMENT_FIELDS = ("multiplier", "tick_size", "currency", "asset_class")


def store_batch(repo: IngestRepository, batch: PreparedBatch, now: dt.datetime) -> StoredBatch:
    stamp = repo.dialect.timestamp(now)
    run_id = _resolve_run(repo, batch, stamp)
    repo.lock_run(run_id)
    result = StoredBatch(run_id=run_id, user_id=batch.user_id)

    by_type: dict[str, list[tuple[int, Mapping[str, Any]]]] = defaultdict(list)
    for index, event in batch.events:
        by_type[event["type"]].append((index, event))

    _store_instruments(repo, batch, by_type["instrument"], stamp, result)
    _store_orders(repo, batch, run_id, by_type["order"], stamp, result)
    _store_executions(repo, batch, run_id, by_type["execution"], stamp, result)
    _store_bars(repo, batch, run_id, by_type["bar"], result)
    _store_cash(repo, batch, by_type["cash"], stamp, result)
    _ensure_accounts(repo, batch, by_type["execution"] + by_type["cash"], stamp, result)
    for _index, event in by_type["run_end"]:
        changed = repo.end_run(run_id, event.get("status", "completed"), event["ts"], stamp)
        _count(result, 1, int(changed))
        result.run_ended = True

    first = min((e["ts"] for _i, e in batch.events if "ts" in e and e["type"] != "run_end"),
                default=None)  # fmt: skip
    if first is not None:
        repo.extend_run_start(run_id, first)
    if result.positions:
        repo.mark_pending(
            [
                (batch.user_id, key.run_id, key.account, key.symbol, ts, stamp)
                for key, ts in sorted(result.positions.items(), key=lambda kv: _sort_key(kv[0]))
            ]
        )
    rejected = batch.rejected + result.rejected
    if rejected:
        repo.insert_rejected(
            [
                (
                    batch.user_id,
                    run_id,
                    batch.source,
                    r.index,
                    r.event_id,
                    r.event_type,
                    r.raw,
                    r.error,
                    stamp,
                )
                for r in rejected
            ]
        )
    result.rejected = rejected
    return result


def _sort_key(key: PositionKey) -> tuple[int, str, str]:
    return (key.run_id, key.account, key.symbol)


def _count(result: StoredBatch, submitted: int, stored: int) -> None:
    result.accepted += stored
    result.duplicates += submitted - stored


def _resolve_run(repo: IngestRepository, batch: PreparedBatch, stamp: Any) -> int:
    """The run named by the envelope, created (with its strategy and instance) on first sight."""
    run = batch.run
    found = repo.find_run(batch.user_id, batch.source, run.key)
    if found is None:
        strategy_id = repo.ensure_strategy(batch.user_id, run.strategy, stamp)
        instance_id = (
            repo.ensure_instance(batch.user_id, strategy_id, run.instance, stamp)
            if run.instance
            else None
        )
        repo.create_run(
            (
                batch.user_id,
                batch.source,
                run.key,
                strategy_id,
                instance_id,
                run.mode,
                "running",
                orjson.dumps(run.params).decode(),
                run.initial_capital,
                stamp,
            )
        )
        found = repo.find_run(batch.user_id, batch.source, run.key)
        assert found is not None
    run_id, strategy, instance, mode = found
    mismatches = [
        f"run.{name}: run {run.key!r} of source {batch.source!r} has {name} {stored!r}, "
        f"not {sent!r}"
        for name, stored, sent in (
            ("strategy", strategy, run.strategy),
            ("instance", instance, run.instance),
            ("mode", mode, run.mode),
        )
        if sent is not None and stored != sent
    ]
    if mismatches:
        raise InvalidPayload("; ".join(mismatches))
    return int(run_id)


def _store_instruments(
    repo: IngestRepository,
    batch: PreparedBatch,
    events: list[tuple[int, Mapping[str, Any]]],
    stamp: Any,
    result: StoredBatch,
) -> None:
    """Upsert by (user, symbol): fields an event carries replace, fields it omits are kept.

    Except a new multiplier of a symbol that already has trades: that would re-price
    them behind the user's back, so the event is dead-lettered and the stored
    instrument kept (docs/ingest.md, "Instruments"; PATCH /api/instruments/{symbol}
    with ?confirm=true is the way to change it).
    """
    if not events:
        return
    stored = repo.instruments(batch.user_id, [e["symbol"] for _i, e in events])
    changed: dict[str, tuple[Any, ...]] = {}
    for index, event in events:
        symbol = event["symbol"]
        current = changed.get(symbol) or stored.get(symbol) or _INSTRUMENT_DEFAULTS
        merged = tuple(
            event[name] if name in event else value
            for name, value in zip(_INSTRUMENT_FIELDS, current, strict=True)
        )
        if merged == (changed.get(symbol) or stored.get(symbol)):
            _count(result, 1, 0)
            continue
        if merged[0] != current[0]:
            runs, trades = repo.priced_trades(batch.user_id, symbol)
            if trades:
                raw = batch.raw_events[index] if batch.raw_events else event
                result.rejected.append(Rejection(
                    index, None, "instrument", raw_text(raw),
                    f"multiplier: {symbol} has {trades} trade{'s' * (trades != 1)} in {runs} "
                    f"run{'s' * (runs != 1)} priced at multiplier {current[0]:g}; {merged[0]:g} "
                    "would re-price them, so the stored instrument is kept (change it with "
                    f"PATCH /api/instruments/{symbol}?confirm=true)",
                ))  # fmt: skip
                continue
        changed[symbol] = merged
        _count(result, 1, 1)
    repo.upsert_instruments(
        [(batch.user_id, symbol, *values, stamp) for symbol, values in sorted(changed.items())]
    )


def _store_orders(
    repo: IngestRepository,
    batch: PreparedBatch,
    run_id: int,
    events: list[tuple[int, Mapping[str, Any]]],
    stamp: Any,
    result: StoredBatch,
) -> None:
    if not events:
        return
    rows = [
        (
            batch.user_id,
            run_id,
            batch.source,
            e["id"],
            e["order_id"],
            e["ts"],
            e["symbol"],
            e["side"],
            e["order_type"],
            e["qty"],
            e["status"],
            e.get("limit_price"),
            e.get("stop_price"),
            e.get("tif"),
            e.get("parent_id"),
            e.get("filled_qty"),
            e.get("avg_fill_price"),
            e.get("reason"),
        )
        for _i, e in events
    ]
    inserted = repo.insert_order_events(rows)
    _count(result, len(rows), inserted)
    if inserted:
        repo.refresh_orders(run_id, [e["order_id"] for _i, e in events], stamp)


def _store_executions(
    repo: IngestRepository,
    batch: PreparedBatch,
    run_id: int,
    events: list[tuple[int, Mapping[str, Any]]],
    stamp: Any,
    result: StoredBatch,
) -> None:
    """New fills go in one executemany; an amend or remove applies in batch order.

    Only fills that were really new mark their position for re-derivation, so a
    replayed batch triggers no work.
    """
    pending: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not pending:
            return
        before = repo.last_execution_pk()
        inserted = repo.insert_executions(pending)
        _count(result, len(pending), inserted)
        if inserted == len(pending):
            new = pending
        elif inserted:
            fresh = repo.exec_ids_after(
                batch.user_id, batch.source, [r[3] for r in pending], before
            )
            new = [row for row in pending if row[3] in fresh]
        else:
            new = []
        earliest: dict[tuple[str, str], int] = {}  # (account, symbol) → earliest new ts
        for row in new:
            key, ts = (row[11], row[6]), row[5]
            if ts < earliest.get(key, ts + 1):
                earliest[key] = ts
        for (account, symbol), ts in earliest.items():
            result.touch(PositionKey(run_id, account, symbol), ts)
        pending.clear()

    for index, event in events:
        if event.get("op", "new") == "new":
            pending.append(
                (batch.user_id, run_id, batch.source, event["id"], event.get("order_id"),
                 event["ts"], event["symbol"], event["side"], event["qty"], event["price"],
                 event.get("commission", 0.0), event.get("account") or "",
                 event.get("liquidity"))
            )  # fmt: skip
            continue
        flush()
        _amend_or_remove(repo, batch, index, event, stamp, result)
    flush()


def _amend_or_remove(
    repo: IngestRepository,
    batch: PreparedBatch,
    index: int,
    event: Mapping[str, Any],
    stamp: Any,
    result: StoredBatch,
) -> None:
    op = event["op"]
    stored = repo.find_execution(batch.user_id, batch.source, event["id"])
    problem = None
    if stored is None:
        problem = f"id: no execution {event['id']!r} from source {batch.source!r} to {op}"
    elif stored[11] is not None:
        if op == "remove":  # a replayed bust
            _count(result, 1, 0)
            return
        problem = f"id: execution {event['id']!r} was removed; send a fill with a new id"
    if problem is not None:
        raw = batch.raw_events[index] if batch.raw_events else event
        result.rejected.append(Rejection(index, event["id"], "execution", raw_text(raw), problem))
        return
    assert stored is not None
    pk, run_id, account, symbol, ts = stored[:5]
    result.touch(PositionKey(run_id, account, symbol), ts)
    if op == "remove":
        repo.remove_execution(pk, stamp)
        _count(result, 1, 1)
        return
    values = (
        event.get("account") or "",
        event["symbol"],
        event["ts"],
        event.get("order_id"),
        event["side"],
        event["qty"],
        event["price"],
        event.get("commission", 0.0),
        event.get("liquidity"),
    )
    current = (account, symbol, ts, *stored[5:11])
    if values == current:
        _count(result, 1, 0)
        return
    repo.amend_execution(pk, values, stamp)
    result.touch(PositionKey(run_id, values[0], values[1]), values[2])
    _count(result, 1, 1)


def _ensure_accounts(
    repo: IngestRepository,
    batch: PreparedBatch,
    events: list[tuple[int, Mapping[str, Any]]],
    stamp: Any,
    result: StoredBatch,
) -> None:
    """Make the account of each name a fill or cash flow carries, on first sight.

    The names this writer has committed before are known (`repo.known_accounts`), so a
    batch of known accounts costs no query; the new ones are inserted (ON CONFLICT DO
    NOTHING) and become known once the transaction commits (`result.accounts`).
    """
    names = {event.get("account") or "" for _i, event in events if event.get("op") != "remove"}
    new = sorted(name for name in names if (batch.user_id, name) not in repo.known_accounts)
    if new:
        repo.ensure_accounts([(batch.user_id, name, stamp) for name in new])
        result.accounts.update((batch.user_id, name) for name in new)


def _cash_values(event: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        event.get("account") or "", event["kind"], event["amount"], event.get("currency"),
        event["ts"], event.get("note"),
    )  # fmt: skip


def _units(value: Any) -> int:
    return round(float(value) * 100_000_000)


def _store_cash(
    repo: IngestRepository,
    batch: PreparedBatch,
    events: list[tuple[int, Mapping[str, Any]]],
    stamp: Any,
    result: StoredBatch,
) -> None:
    """Cash flows by (user, source, id), like fills: new ones in one executemany, an amend
    rewrites the stored flow, a remove marks it removed (docs/ingest.md, "Cash flows")."""
    new = [
        (batch.user_id, batch.source, e["id"], *_cash_values(e), stamp)
        for _i, e in events
        if e.get("op", "new") == "new"
    ]
    if new:
        _count(result, len(new), repo.insert_cash_flows(new))
        result.cash_accounts.update(row[3] for row in new)
    for index, event in events:
        op = event.get("op", "new")
        if op == "new":
            continue
        stored = repo.find_cash_flow(batch.user_id, batch.source, event["id"])
        problem = None
        if stored is None:
            problem = f"id: no cash flow {event['id']!r} from source {batch.source!r} to {op}"
        elif stored[7] is not None:
            if op == "remove":  # a replayed removal
                _count(result, 1, 0)
                continue
            problem = f"id: cash flow {event['id']!r} was removed; send one with a new id"
        if problem is not None:
            raw = batch.raw_events[index] if batch.raw_events else event
            result.rejected.append(Rejection(index, event["id"], "cash", raw_text(raw), problem))
            continue
        assert stored is not None
        result.cash_accounts.add(stored[1])
        if op == "remove":
            repo.remove_cash_flow(stored[0], stamp)
            _count(result, 1, 1)
            continue
        values = _cash_values(event)
        current = (stored[1], stored[2], _units(stored[3]), stored[4], int(stored[5]), stored[6])
        if (*values[:2], _units(values[2]), *values[3:]) == current:
            _count(result, 1, 0)
            continue
        repo.amend_cash_flow(stored[0], values, stamp)
        result.cash_accounts.add(values[0])
        _count(result, 1, 1)


def _store_bars(
    repo: IngestRepository,
    batch: PreparedBatch,
    run_id: int,
    events: list[tuple[int, Mapping[str, Any]]],
    result: StoredBatch,
) -> None:
    """Market bars are shared by the user's runs; `series: run` bars belong to this run."""
    market = [e for _i, e in events if e.get("series", "market") == "market"]
    strategy = [e for _i, e in events if e.get("series") == "run"]
    if market:
        keys = [(e["symbol"], e["timeframe"]) for e in market]
        ids = repo.ensure_series("market_series", "user_id", batch.user_id, batch.user_id, keys)
        rows = [(ids[key], *_ohlcv(e)) for key, e in zip(keys, market, strict=True)]
        _count(result, len(rows), repo.upsert_bars("market_bar", rows, with_values=False))
        result.bar_symbols.update(e["symbol"] for e in market)
    if strategy:
        keys = [(e["symbol"], e["timeframe"]) for e in strategy]
        ids = repo.ensure_series("run_series", "run_id", run_id, batch.user_id, keys)
        rows = [
            (ids[key], *_ohlcv(e), json_text(e.get("values")))
            for key, e in zip(keys, strategy, strict=True)
        ]
        _count(result, len(rows), repo.upsert_bars("bar", rows, with_values=True))


def _ohlcv(bar: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        bar["ts"], bar["open"], bar["high"], bar["low"], bar["close"],
        bar.get("volume"), bar.get("bid_volume"), bar.get("ask_volume"),
    )  # fmt: skip


def store_isolated(
    connection: Any, repo: IngestRepository, batch: PreparedBatch, now: dt.datetime
) -> StoredBatch | BaseException:
    """Store what can be stored of a batch that failed in storage for a reason of its own.

    Each event is tried alone under a savepoint that is then rolled back; the events
    storage refuses are dead-lettered with the database's reason, the others are stored
    together as usual. The client gets a 200 naming the refused events (which exporters
    do not resend), instead of a 5xx that an exporter would retry for ever. When nothing
    can be stored, not even the dead letters (the run itself is refused), the answer is a
    non-retryable 422 naming the cause.
    """
    refused: list[Rejection] = []
    for index, event in batch.events:
        single = PreparedBatch(batch.user_id, batch.source, batch.run, [(index, event)], [],
                               batch.raw_events)  # fmt: skip
        savepoint = connection.begin_nested()
        try:
            store_batch(repo, single, now)
        except Exception as exc:
            if is_storage_full(exc) or is_transient(exc):  # lost: not the event's fault
                savepoint.rollback()
                raise
            raw = batch.raw_events[index] if batch.raw_events else event
            problem = f"storage refused the event: {_reason(exc)}"
            refused.append(Rejection(index, _text(event.get("id")), _text(event.get("type")),
                                     raw_text(raw), problem))  # fmt: skip
        savepoint.rollback()
    refused_at = {r.index for r in refused}
    rest = PreparedBatch(
        batch.user_id,
        batch.source,
        batch.run,
        [(index, event) for index, event in batch.events if index not in refused_at],
        sorted(batch.rejected + refused, key=lambda r: r.index),
        batch.raw_events,
    )
    savepoint = connection.begin_nested()
    try:
        result = store_batch(repo, rest, now)
    except Exception as exc:
        savepoint.rollback()
        if isinstance(exc, InvalidPayload):
            return exc
        return InvalidPayload(f"the batch cannot be stored: {_reason(exc)}")
    savepoint.commit()
    return result


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None
