"""The backtest loop: candles close one by one, the strategy reacts, orders trade second by second.

For each candle: first the orders already working trade through its 1-second
bars (the matching engine), then the strategy sees the closed candle and may
submit orders, which work from the next candle's first second. Every order
update, fill and bar goes to the sink as it happens.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.analytics.metrics import ClosedTrade, RunData, compute_all
from backend.market.timeframes import format_timeframe
from backend.trades.reconstruct import Fill, TradeResult, reconstruct
from services.backtester.candles import make_candles
from services.backtester.data import LoadReport, Seconds
from services.backtester.matching import Event, FillRules, Matcher
from services.backtester.orders import Execution, Order, OrderRequest, OrderUpdate
from services.backtester.registry import get
from services.backtester.sinks import Instrument, NullSink, Sink
from services.backtester.strategy import Bar, Context, Strategy

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BacktestConfig:
    """One backtest: which strategy, on what, at which interval, at what cost."""

    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    interval: str = "5m"
    instrument: Instrument = field(default_factory=lambda: Instrument("SYNTH"))
    rules: FillRules = field(default_factory=FillRules)
    initial_capital: float | None = 100_000.0

    def fill_rules(self) -> FillRules:
        """The rules with the instrument's tick size and multiplier."""
        return dataclasses.replace(
            self.rules,
            tick_size=self.instrument.tick_size,
            multiplier=self.instrument.multiplier,
        )


@dataclass
class BacktestResult:
    """What a run produced, with the service's own trade reconstruction and metrics."""

    config: BacktestConfig
    params: dict[str, Any]
    candles: int
    seconds: int
    fills: list[Execution]
    order_updates: int
    orders: int
    position: float
    trades: list[TradeResult]
    metrics: dict[str, float | int | None]
    elapsed_s: float
    report: LoadReport | None = None

    @property
    def closed_trades(self) -> list[TradeResult]:
        return [trade for trade in self.trades if not trade.is_open]

    def summary(self) -> dict[str, Any]:
        return {
            "strategy": self.config.strategy,
            "params": self.params,
            "interval": self.config.interval,
            "candles": self.candles,
            "seconds": self.seconds,
            "orders": self.orders,
            "fills": len(self.fills),
            "trades": len(self.closed_trades),
            "position": self.position,
            "metrics": self.metrics,
            "elapsed_s": round(self.elapsed_s, 3),
        }


class Backtest:
    """Runs one strategy over 1-second bars; `run()` returns the result."""

    def __init__(
        self,
        seconds: Seconds,
        config: BacktestConfig,
        *,
        sink: Sink | None = None,
        progress: Progress | None = None,
        strategy: Strategy | None = None,
    ) -> None:
        self.seconds = seconds
        self.config = config
        self.sink = sink or NullSink()
        self.progress = progress
        self.strategy = strategy or get(config.strategy)(config.params)
        self.rules = config.fill_rules()
        self.fills: list[Execution] = []
        self.order_updates = 0
        self._now_ts = 0
        self._active_from = 0

    def run(self) -> BacktestResult:
        started = time.perf_counter()
        candles = make_candles(self.seconds, self.config.interval)
        indicators = self.strategy.indicators(candles)
        for name, series in indicators.items():
            if len(series) != len(candles):
                raise ValueError(
                    f"indicator {name!r} has {len(series)} values for {len(candles)} candles"
                )
        matcher = Matcher(self.seconds, self.rules, self._on_event)
        self.matcher = matcher
        ctx = Context(
            candles,
            indicators,
            self._submit,
            self._cancel,
            lambda: list(matcher.working.values()),
            self.strategy.params,
        )
        self.ctx = ctx
        symbol = self.config.instrument.symbol
        timeframe = format_timeframe(candles.interval_s)
        self.sink.start(self.config.instrument)
        self.strategy.on_start(ctx)
        count = len(candles)
        names = list(indicators)
        columns = [indicators[name] for name in names]
        interval_ns = candles.interval_ns
        step = max(1, count // 200)
        for i in range(count):
            ts = int(candles.ts[i])
            close_ts = ts + interval_ns
            ctx.index = i
            if matcher.working:
                matcher.advance(int(candles.first[i]), int(candles.stop[i]), close_ts)
            bar = Bar(
                i,
                ts,
                float(candles.open[i]),
                float(candles.high[i]),
                float(candles.low[i]),
                float(candles.close[i]),
                float(candles.volume[i]),
            )
            self._now_ts = close_ts
            self._active_from = int(candles.stop[i])
            ctx.recorded = {}
            self.strategy.on_bar(ctx, bar)
            values = {name: float(column[i]) for name, column in zip(names, columns, strict=True)}
            values.update(ctx.recorded)
            values = {k: v for k, v in values.items() if math.isfinite(v)}
            self.sink.bar(symbol, timeframe, bar, None)
            self.sink.bar(symbol, timeframe, bar, values)
            if self.progress is not None and (i % step == 0 or i == count - 1):
                self.progress(i + 1, count)
        self.strategy.on_stop(ctx)
        end_ts = int(candles.ts[-1]) + interval_ns if count else 0
        for order_id in list(matcher.working):  # nothing works after the data ends
            matcher.cancel(order_id, end_ts, "the backtest ended")
        self.sink.end(end_ts)
        trades = self._trades()
        return BacktestResult(
            config=self.config,
            params=dict(self.strategy.params),
            candles=count,
            seconds=len(self.seconds),
            fills=self.fills,
            order_updates=self.order_updates,
            orders=len(matcher.orders),
            position=ctx.position,
            trades=trades,
            metrics=_metrics(trades, self.config.initial_capital),
            elapsed_s=time.perf_counter() - started,
        )

    # -- what the strategy calls -------------------------------------------------------

    def _submit(self, request: OrderRequest) -> Order:
        return self.matcher.submit(request, self._now_ts, self._active_from)

    def _cancel(self, order_id: str) -> bool:
        return self.matcher.cancel(order_id, self._now_ts)

    # -- what the matching engine reports ----------------------------------------------

    def _on_event(self, event: Event) -> None:
        symbol = self.config.instrument.symbol
        if isinstance(event, OrderUpdate):
            self.order_updates += 1
            self.sink.order(symbol, event)
            return
        self.fills.append(event)
        self._apply(event)
        self.sink.execution(symbol, event)
        saved = self._now_ts, self._active_from
        self._now_ts, self._active_from = event.ts, event.index + 1
        try:
            self.strategy.on_fill(self.ctx, event)
        finally:
            self._now_ts, self._active_from = saved

    def _apply(self, fill: Execution) -> None:
        """Position, average price and realised PnL after a fill."""
        ctx = self.ctx
        signed = fill.qty * fill.side.sign
        position = ctx.position
        ctx.commission += fill.commission
        ctx.realised_pnl -= fill.commission
        if position == 0 or (position > 0) == (signed > 0):
            cost = (ctx.avg_price or 0.0) * abs(position) + fill.price * fill.qty
            ctx.position = position + signed
            ctx.avg_price = cost / abs(ctx.position)
            return
        closed = min(abs(position), fill.qty)
        direction = 1 if position > 0 else -1
        assert ctx.avg_price is not None
        points = (fill.price - ctx.avg_price) * direction
        ctx.realised_pnl += points * closed * self.rules.multiplier
        ctx.position = position + signed
        if abs(ctx.position) < 1e-12:
            ctx.position, ctx.avg_price = 0.0, None
        elif (ctx.position > 0) != (position > 0):
            ctx.avg_price = fill.price  # crossed zero: the rest opened at this price

    def _trades(self) -> list[TradeResult]:
        fills = [
            Fill(n, f.ts, str(f.side), f.qty, f.price, f.commission)
            for n, f in enumerate(self.fills)
        ]
        return reconstruct(fills, self.rules.multiplier)


def _metrics(
    trades: list[TradeResult], initial_capital: float | None
) -> dict[str, float | int | None]:
    closed = [
        ClosedTrade(
            net_pnl=t.net_pnl,
            gross_pnl=t.gross_pnl,
            commission=t.commission,
            entry_ts=t.entry_ts,
            exit_ts=t.exit_ts,
        )
        for t in trades
        if t.exit_ts is not None
    ]
    values, _reasons = compute_all(RunData(closed, initial_capital))
    return values
