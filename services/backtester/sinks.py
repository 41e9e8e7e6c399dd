"""Where a backtest's events go: nowhere, a list (tests), or Fillbook through the exporter.

`ExporterSink` pushes a `backtest` run as it happens: the instrument first,
then each order update, fill, market bar and `run` bar (the candle with the
strategy's indicator values), and `run_end` last. Event ids carry the run key,
because the service scopes ids by (user, source), not by run.
`Paced` replays the same events at a multiple of market time (`--pace 10`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from services.backtester.orders import Execution, OrderUpdate

if TYPE_CHECKING:
    from fillbook_exporter import Exporter

    from services.backtester.strategy import Bar


@dataclass(frozen=True)
class Instrument:
    symbol: str
    multiplier: float = 1.0
    tick_size: float = 0.01
    currency: str = "USD"


class Sink(Protocol):
    def start(self, instrument: Instrument) -> None: ...

    def order(self, symbol: str, update: OrderUpdate) -> None: ...

    def execution(self, symbol: str, fill: Execution) -> None: ...

    def bar(
        self, symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
    ) -> None:
        """A market bar (`values` None) or a `run` bar with the strategy's values."""

    def end(self, ts: int) -> None: ...


class NullSink:
    def start(self, instrument: Instrument) -> None:
        pass

    def order(self, symbol: str, update: OrderUpdate) -> None:
        pass

    def execution(self, symbol: str, fill: Execution) -> None:
        pass

    def bar(
        self, symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
    ) -> None:
        pass

    def end(self, ts: int) -> None:
        pass


# -- contract events -------------------------------------------------------------------


def order_event(symbol: str, update: OrderUpdate, prefix: str = "") -> dict[str, Any]:
    return {
        "type": "order",
        "id": prefix + update.id,
        "order_id": prefix + update.order_id,
        "ts": update.ts,
        "symbol": symbol,
        "side": str(update.side),
        "order_type": str(update.order_type),
        "qty": update.qty,
        "status": str(update.status),
        "limit_price": update.limit_price,
        "stop_price": update.stop_price,
        "tif": str(update.tif),
        "parent_id": None if update.parent_id is None else prefix + update.parent_id,
        "filled_qty": update.filled_qty,
        "avg_fill_price": update.avg_fill_price,
        "reason": update.reason,
    }


def execution_event(symbol: str, fill: Execution, prefix: str = "") -> dict[str, Any]:
    return {
        "type": "execution",
        "id": prefix + fill.id,
        "order_id": prefix + fill.order_id,
        "ts": fill.ts,
        "symbol": symbol,
        "side": str(fill.side),
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
    }


def bar_event(
    symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "bar",
        "symbol": symbol,
        "timeframe": timeframe,
        "ts": bar.ts,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }
    if values is not None:
        event["series"] = "run"
        event["values"] = dict(values)
    return event


@dataclass
class Recorder:
    """Keeps every event as the contract dict it would be sent as (tests, dry runs)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def start(self, instrument: Instrument) -> None:
        self.events.append(
            {
                "type": "instrument",
                "symbol": instrument.symbol,
                "multiplier": instrument.multiplier,
                "tick_size": instrument.tick_size,
                "currency": instrument.currency,
            }
        )

    def order(self, symbol: str, update: OrderUpdate) -> None:
        self.events.append(order_event(symbol, update))

    def execution(self, symbol: str, fill: Execution) -> None:
        self.events.append(execution_event(symbol, fill))

    def bar(
        self, symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
    ) -> None:
        self.events.append(bar_event(symbol, timeframe, bar, values))

    def end(self, ts: int) -> None:
        self.events.append({"type": "run_end", "ts": ts})

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]


class ExporterSink:
    """Pushes the run through a `fillbook_exporter.Exporter`.

    Events are written to the exporter's spool in groups (one SQLite transaction
    per `group_events` events or `group_seconds` of wall time, whichever first),
    so a fast backtest is not limited by one commit per event while a paced one
    still flows within a fraction of a second.
    """

    def __init__(
        self,
        exporter: Exporter,
        *,
        id_prefix: str = "",
        group_events: int = 5000,
        group_seconds: float = 0.25,
        send_instrument: bool = True,
    ) -> None:
        self.exporter = exporter
        self.prefix = id_prefix
        self.send_instrument = send_instrument
        self.group_events = group_events
        self.group_seconds = group_seconds
        self._group: contextlib.ExitStack | None = None
        self._in_group = 0
        self._opened = 0.0
        self.sent = 0

    def _tick(self) -> None:
        self.sent += 1
        self._in_group += 1
        if (
            self._in_group >= self.group_events
            or time.monotonic() - self._opened >= self.group_seconds
        ):
            self.commit()

    def _ensure_group(self) -> None:
        if self._group is None:
            self._group = contextlib.ExitStack()
            self._group.enter_context(self.exporter.group())
            self._in_group = 0
            self._opened = time.monotonic()

    def commit(self) -> None:
        """Write the events held so far to the spool (the sender picks them up)."""
        if self._group is not None:
            group, self._group = self._group, None
            group.close()

    def _send(self, event: dict[str, Any]) -> None:
        self._ensure_group()
        self.exporter.event(event)
        self._tick()

    def start(self, instrument: Instrument) -> None:
        if not self.send_instrument:  # Fillbook holds it already: never change it from here
            return
        self.exporter.instrument(
            instrument.symbol,
            multiplier=instrument.multiplier,
            tick_size=instrument.tick_size,
            currency=instrument.currency,
        )

    def order(self, symbol: str, update: OrderUpdate) -> None:
        self._send(order_event(symbol, update, self.prefix))

    def execution(self, symbol: str, fill: Execution) -> None:
        self._send(execution_event(symbol, fill, self.prefix))

    def bar(
        self, symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
    ) -> None:
        self._send(bar_event(symbol, timeframe, bar, values))

    def end(self, ts: int) -> None:
        self.commit()
        self.exporter.end(ts)


class Paced:
    """Forwards to `sink` no faster than `pace` x market time (events wait their turn).

    An event's market time is its `ts` (a bar's is its close). The first event
    sets the origin; `sleep` and `clock` are injectable for tests.
    """

    def __init__(
        self,
        sink: Sink,
        pace: float,
        interval_ns: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        if not pace > 0:
            raise ValueError(f"pace must be > 0, got {pace}")
        self.sink = sink
        self.pace = pace
        self.interval_ns = interval_ns
        self.sleep = sleep
        self.clock = clock
        self.on_wait = on_wait
        self._origin: tuple[int, float] | None = None

    def _wait(self, market_ts: int) -> None:
        if self._origin is None:
            self._origin = (market_ts, self.clock())
            return
        first_ts, first_wall = self._origin
        due = first_wall + (market_ts - first_ts) / 1e9 / self.pace
        delay = due - self.clock()
        if delay > 0:
            if self.on_wait is not None:
                self.on_wait()  # e.g. commit the spool so what is due is visible now
            self.sleep(delay)

    def start(self, instrument: Instrument) -> None:
        self.sink.start(instrument)

    def order(self, symbol: str, update: OrderUpdate) -> None:
        self._wait(update.ts)
        self.sink.order(symbol, update)

    def execution(self, symbol: str, fill: Execution) -> None:
        self._wait(fill.ts)
        self.sink.execution(symbol, fill)

    def bar(
        self, symbol: str, timeframe: str, bar: Bar, values: Mapping[str, float] | None
    ) -> None:
        self._wait(bar.ts + self.interval_ns)
        self.sink.bar(symbol, timeframe, bar, values)

    def end(self, ts: int) -> None:
        self.sink.end(ts)


def spool_for(directory: Path, run_key: str) -> Path:
    """A spool file per run under `directory` (so parallel sweeps never share one)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_key)
    return directory / f"{safe}.spool"
