"""`Exporter`: the public face of the SDK (see the package README for the API in brief)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Required, TypedDict

import orjson

from fillbook_exporter import domain
from fillbook_exporter.derivation import Derivation
from fillbook_exporter.domain import MAX_AMOUNT, MAX_TS_NS, MIN_AMOUNT, NS_FLOOR
from fillbook_exporter.events import (
    IdGenerator,
    Number,
    Timestamp,
    check_event,
    compact,
    number,
    to_ns,
)
from fillbook_exporter.sender import (
    MAX_BATCH_EVENTS,
    Backoff,
    ExporterError,
    RejectedEvent,
    RunDerivation,
    Sender,
)
from fillbook_exporter.spool import Spool

log = logging.getLogger("fillbook_exporter")

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]
ID_EVENTS = frozenset({"order", "execution"})


class Run(TypedDict, total=False):
    """The contract's `run` header: `key` is required, the rest as docs/ingest.md says."""

    key: Required[str]
    strategy: str
    instance: str
    mode: Literal["live", "paper", "backtest"]
    params: dict[str, Any]
    initial_capital: float


def default_spool_path(source: str) -> Path:
    """`$FILLBOOK_SPOOL_DIR/<source>.spool` (default `~/.fillbook/spool/`)."""
    directory = Path(os.environ.get("FILLBOOK_SPOOL_DIR", "~/.fillbook/spool")).expanduser()
    return directory / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', source)}.spool"


class Exporter:
    """Pushes one run's events to Fillbook; every event is in the spool when a call returns.

    The event methods take the contract's field names. Times are aware datetimes
    (pandas Timestamps included), epoch nanoseconds or ISO-8601 strings with an
    offset. `order()` and `execution()` return the event id, generated from the
    event's content when not given (the same event again gets the same id).
    A value the service would refuse (a naive time, a time outside 1970..2199, an
    amount outside the domain of fillbook_exporter/domain.py) raises `ValueError`
    (or `TypeError` for a non-number) at the call, naming the field, value and limit,
    and nothing is spooled.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        source: str,
        run: Run | Mapping[str, Any],
        *,
        spool_path: str | Path | None = None,
        fmt: Literal["json", "msgpack"] = "json",
        batch_size: int = 1000,
        max_batch_age: float = 1.0,
        on_rejected: Callable[[RejectedEvent], None] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        fsync: bool = False,
        timeout: float = 30.0,
    ) -> None:
        if "key" not in run or not str(run["key"]):
            raise ValueError(f"run: needs a non-empty 'key', got {dict(run)!r}")
        if run.get("initial_capital") is not None:
            domain.capital(run["initial_capital"], "run.initial_capital")
        if fmt not in ("json", "msgpack"):
            raise ValueError(f"fmt: must be 'json' or 'msgpack', got {fmt!r}")
        if not 1 <= batch_size <= MAX_BATCH_EVENTS:
            raise ValueError(f"batch_size: must be 1..{MAX_BATCH_EVENTS}, got {batch_size}")
        self.source = source
        self.run: dict[str, Any] = dict(run)
        self.batch_size = batch_size
        self.spool = Spool(spool_path or default_spool_path(source), fsync=fsync)
        self._stream = self.spool.open_stream(source, self.run)
        self._ids = IdGenerator(source, str(self.run["key"]))
        self._lock = threading.Lock()
        self._group = threading.local()
        self._appended = 0
        self._closed = False
        self._sender = Sender(
            self.spool,
            base_url=base_url,
            api_key=api_key,
            fmt=fmt,
            batch_size=batch_size,
            max_batch_age=max_batch_age,
            backoff=Backoff(backoff_base, backoff_cap),
            on_rejected=on_rejected,
            timeout=timeout,
        )
        self._sender.start()

    # -- events -----------------------------------------------------------------------------

    def instrument(
        self,
        symbol: str,
        *,
        multiplier: Number | None = None,
        tick_size: Number | None = None,
        currency: str | None = None,
        asset_class: str | None = None,
    ) -> None:
        """Instrument metadata (point value, tick size); later values update the stored ones,
        except a new multiplier once the symbol has trades: the service rejects that event
        and keeps the stored instrument (docs/ingest.md, "Instruments")."""
        self._spool_event(
            {
                "type": "instrument",
                "symbol": symbol,
                "multiplier": _opt(multiplier, "multiplier"),
                "tick_size": _opt(tick_size, "tick_size"),
                "currency": currency,
                "asset_class": asset_class,
            }
        )

    def order(
        self,
        order_id: str,
        ts: Timestamp,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty: Number,
        status: str,
        *,
        id: str | None = None,
        limit_price: Number | None = None,
        stop_price: Number | None = None,
        tif: str | None = None,
        parent_id: str | None = None,
        filled_qty: Number | None = None,
        avg_fill_price: Number | None = None,
        reason: str | None = None,
    ) -> str:
        """One state of an order (`status`: new, working, ..., filled); returns the event id."""
        event_id = self._spool_event(
            {
                "type": "order",
                "id": id,
                "order_id": order_id,
                "ts": to_ns(ts),
                "symbol": symbol,
                "side": side,
                "order_type": order_type,
                "qty": domain.positive_amount(qty, "qty"),
                "status": status,
                "limit_price": _opt(limit_price, "limit_price"),
                "stop_price": _opt(stop_price, "stop_price"),
                "tif": tif,
                "parent_id": parent_id,
                "filled_qty": _opt_amount(filled_qty, "filled_qty"),
                "avg_fill_price": _opt(avg_fill_price, "avg_fill_price"),
                "reason": reason,
            }
        )
        assert event_id is not None  # order events always get one
        return event_id

    def execution(
        self,
        ts: Timestamp,
        symbol: str,
        side: Side,
        qty: Number,
        price: Number,
        *,
        id: str | None = None,
        order_id: str | None = None,
        commission: Number | None = None,
        account: str | None = None,
        liquidity: str | None = None,
    ) -> str:
        """A fill; returns its id (the platform's execution id when given)."""
        # Plain ints and floats in the domain pass inline checks (the per-fill hot path);
        # the domain functions convert everything else and word the errors.
        if not (type(qty) in _PLAIN and MIN_AMOUNT <= qty <= MAX_AMOUNT):
            qty = domain.positive_amount(qty, "qty")
        if not (type(price) in _PLAIN and MIN_AMOUNT <= price <= MAX_AMOUNT):
            price = domain.positive_amount(price, "price")
        event: dict[str, Any] = {
            "type": "execution",
            "ts": ts if type(ts) is int and NS_FLOOR <= ts < MAX_TS_NS else to_ns(ts),
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "price": price,
        }
        if order_id is not None:
            event["order_id"] = order_id
        if commission is not None:
            event["commission"] = domain.amount(commission, "commission")
        if account is not None:
            event["account"] = account
        if liquidity is not None:
            event["liquidity"] = liquidity
        if id is None:
            id = self._ids(event)
        event["id"] = id
        self._append(orjson.dumps(event))
        return id

    def amend_execution(
        self,
        id: str,
        ts: Timestamp,
        symbol: str,
        side: Side,
        qty: Number,
        price: Number,
        *,
        order_id: str | None = None,
        commission: Number | None = None,
        account: str | None = None,
        liquidity: str | None = None,
    ) -> None:
        """Replace the stored fill `id` with these values (`op: amend`); trades re-derive."""
        self._spool_event(
            {
                "type": "execution",
                "op": "amend",
                "id": id,
                "ts": to_ns(ts),
                "symbol": symbol,
                "side": side,
                "qty": domain.positive_amount(qty, "qty"),
                "price": domain.positive_amount(price, "price"),
                "order_id": order_id,
                "commission": _opt_amount(commission, "commission"),
                "account": account,
                "liquidity": liquidity,
            }
        )

    def remove_execution(self, id: str) -> None:
        """Bust the stored fill `id` (`op: remove`); it stays visible as removed."""
        self._spool_event({"type": "execution", "op": "remove", "id": id})

    def bar(
        self,
        symbol: str,
        timeframe: str,
        ts: Timestamp,
        open: Number,
        high: Number,
        low: Number,
        close: Number,
        *,
        volume: Number | None = None,
        bid_volume: Number | None = None,
        ask_volume: Number | None = None,
        series: Literal["market", "run"] | None = None,
        values: Mapping[str, Number] | None = None,
    ) -> None:
        """An OHLC bar stamped with its open time (`timeframe`: 1s, 5m, 1h, 1d, ... <= 366d)."""
        domain.timeframe_seconds(timeframe)
        self._spool_event(
            {
                "type": "bar",
                "symbol": symbol,
                "timeframe": timeframe,
                "ts": to_ns(ts),
                "open": domain.positive_amount(open, "open"),
                "high": domain.positive_amount(high, "high"),
                "low": domain.positive_amount(low, "low"),
                "close": domain.positive_amount(close, "close"),
                "volume": _opt_volume(volume, "volume"),
                "bid_volume": _opt_volume(bid_volume, "bid_volume"),
                "ask_volume": _opt_volume(ask_volume, "ask_volume"),
                "series": series,
                "values": None if values is None
                else {name: number(value, f"values.{name}") for name, value in values.items()},
            }
        )

    def end(
        self, ts: Timestamp | None = None, status: Literal["completed", "failed"] = "completed"
    ) -> None:
        """Close the run (`run_end`); `ts` defaults to now."""
        when = dt.datetime.now(dt.UTC) if ts is None else ts
        self._spool_event({"type": "run_end", "ts": to_ns(when), "status": status})

    def event(self, event: Mapping[str, Any]) -> str | None:
        """Spool any contract event given as a dict (`None` fields are left out).

        Its times and numbers are checked as the event methods check them (a datetime
        `ts` becomes epoch ns). `order` and `execution` events without an `id` get a
        deterministic one, which is returned.
        """
        return self._spool(check_event(event))

    def _spool_event(self, event: dict[str, Any]) -> str | None:
        """Spool an event the caller built and checked; `None` fields are left out."""
        return self._spool(compact(event))

    def _spool(self, body: dict[str, Any]) -> str | None:
        event_id = body.get("id")
        if event_id is None and body.get("type") in ID_EVENTS:
            event_id = body["id"] = self._ids(body)
        self._append(orjson.dumps(body))
        return None if event_id is None else str(event_id)

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Write the events of the block to the spool with one `write()`, at its end.

        Faster for bulk exports (a finished backtest, a CSV); the events are
        durable when the block exits, not when each call returns. If the block
        raises, the events recorded so far in it are still written.
        """
        if getattr(self._group, "bodies", None) is not None:
            yield
            return
        self._group.bodies = []
        try:
            yield
        finally:
            bodies: list[bytes] = self._group.bodies
            self._group.bodies = None
            for start in range(0, len(bodies), 50_000):
                chunk = bodies[start : start + 50_000]
                self.spool.append_many(self._stream, chunk)
                self._appended_count(len(chunk))

    def _append(self, body: bytes) -> None:
        bodies = getattr(self._group, "bodies", None)
        if bodies is not None:
            bodies.append(body)
            return
        if self._closed:
            raise RuntimeError("the exporter is closed")
        self.spool.append(self._stream, body)
        self._appended_count(1)

    def _appended_count(self, count: int) -> None:
        with self._lock:
            before = self._appended
            self._appended = before + count
        if self._sender.idle or before // self.batch_size != self._appended // self.batch_size:
            self._sender.idle = False
            self._sender.wake()

    # -- delivery ---------------------------------------------------------------------------

    @property
    def error(self) -> ExporterError | None:
        """Why the sender stopped (an envelope error such as 401), or None while it runs."""
        return self._sender.error

    @property
    def stats(self) -> dict[str, int]:
        """Counters since start: batches, accepted, duplicates, rejected, retries."""
        return dict(self._sender.stats)

    def pending(self) -> int:
        """Events in the spool not yet acknowledged by the service."""
        return self.spool.pending()

    @property
    def derivation(self) -> Derivation | None:
        """The latest derivation state the service answered (to a `flush(wait="derived")`)."""
        return self._sender.derivation

    def flush(
        self, timeout: float | None = 30.0, wait: Literal["derived"] | None = None
    ) -> Derivation | None:
        """Wait until the service acknowledged every spooled event.

        With `wait="derived"` it also waits, within the same `timeout`, until the
        trades those events touched are rebuilt, so that trades read afterwards
        include them, and returns a `Derivation`:

        - the batches this flush sends ask `POST /api/ingest?wait=derived&timeout=N`
          (N: the seconds left of `timeout`, at most 30 a batch);
        - the runs of batches the background sender had sent before without waiting,
          and of batches whose wait ended `pending`, are then asked about
          (`GET /api/runs/{id}`) until they are not pending; a run's state replaces
          its batches' answers (it is later and covers the whole run);
        - the result sums up these answers, worst first: `failed` (with the
          positions the service could not rebuild; it retries them), `pending`
          (the bound passed first: not an error, the count is reported and the
          positions are derived a little later) or `derived`. It is None without
          `wait`, and when there is nothing to report: this flush sent no batch and
          every run of earlier batches was reported by an earlier such flush.

        Raises `ExporterError` if the sender stopped on an envelope error, and
        `TimeoutError` if events are still pending after `timeout` seconds.
        """
        if wait not in (None, "derived"):
            raise ValueError(f"wait: must be None or 'derived', got {wait!r}")
        if self.error is not None:
            raise self.error
        deadline = None if timeout is None else time.monotonic() + timeout
        answers: list[RunDerivation] | None = [] if wait == "derived" else None
        # Rows leave the spool only once acknowledged: an empty spool means all delivered.
        drained = (self.pending() == 0 or self._sender.drain(timeout, answers)
                   or self.pending() == 0)
        if self.error is not None:
            raise self.error
        if not drained:
            raise TimeoutError(f"{self.pending()} events still pending after {timeout} s")
        if answers is None:
            return None
        runs = self._sender.run_states(deadline)  # later than the batches' answers, and whole
        batches = [state for run_id, state in answers if run_id not in runs]
        return Derivation.merge(batches + list(runs.values()))

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush for up to `timeout` seconds, then stop the sender.

        What the service has not acknowledged by then stays in the spool and is
        sent by the next exporter opened on the same spool file. Raises
        `ExporterError` if the sender had stopped on an envelope error.
        """
        if self._closed:
            return
        try:
            self.flush(timeout)
        except TimeoutError as exc:
            log.warning("closing with events in the spool (%s): %s", self.spool.path, exc)
        finally:
            self._closed = True
            self._sender.stop(timeout=5.0)
            self.spool.close()

    def __enter__(self) -> Exporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(ExporterError):
            self.close()


_PLAIN = (int, float)


def _opt(value: Number | None, field: str) -> int | float | None:
    """An optional quantity, price, multiplier or tick size."""
    return None if value is None else domain.positive_amount(value, field)


def _opt_amount(value: Number | None, field: str) -> int | float | None:
    """An optional commission or filled quantity (>= 0)."""
    return None if value is None else domain.amount(value, field)


def _opt_volume(value: Number | None, field: str) -> int | float | None:
    return None if value is None else domain.volume(value, field)
