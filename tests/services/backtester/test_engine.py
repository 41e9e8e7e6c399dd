"""The backtest loop: what a strategy sees, when its orders trade, and what goes out."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from services.backtester.candles import Candles
from services.backtester.data import NS_PER_SECOND
from services.backtester.engine import Backtest, BacktestConfig
from services.backtester.matching import FillRules
from services.backtester.orders import Execution
from services.backtester.registry import catalogue, get
from services.backtester.sinks import Instrument, Paced, Recorder
from services.backtester.strategy import Bar, Context, FloatArray, Parameter, Strategy
from services.backtester.synthetic import random_walk
from tests.services.backtester.helpers import T0, seconds

MINUTE = 60 * NS_PER_SECOND


def minutes(count: int, base: float = 100.0) -> list[tuple[float, float, float, float, float]]:
    """`count` minutes of flat 1-second bars, each minute one point higher than the last."""
    rows = []
    for m in range(count):
        price = base + m
        rows.extend([(price, price + 0.5, price - 0.5, price, 10.0)] * 60)
    return rows


class Scripted(Strategy):
    """Buys at the first close, records what it saw, and reacts to its fill with a limit."""

    name = "scripted"
    parameters: ClassVar[tuple[Parameter, ...]] = (Parameter("qty", 2.0),)

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.seen: list[tuple[int, int, float]] = []
        self.fills: list[tuple[str, float]] = []
        self.stopped = False

    def indicators(self, candles: Candles) -> dict[str, FloatArray]:
        return {"twice": candles.close * 2, "gap": np.full(len(candles), np.nan)}

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        self.seen.append((bar.idx, len(ctx.history()), ctx.value("twice")))
        ctx.record("position", ctx.position)
        if bar.idx == 0:
            ctx.buy(float(self.params["qty"]), tag="entry")

    def on_fill(self, ctx: Context, fill: Execution) -> None:
        self.fills.append((fill.order_id, ctx.position))
        if fill.tag == "entry":  # works from the next second, inside the same candle
            ctx.sell(1, order_type="limit", limit_price=fill.price + 0.5, tag="exit")

    def on_stop(self, ctx: Context) -> None:  # noqa: ARG002
        self.stopped = True


def run(strategy: Strategy, rows: list[Any], **config: Any) -> tuple[Recorder, Any]:
    recorder = Recorder()
    defaults: dict[str, Any] = {"strategy": strategy.name, "interval": "1m",
                                "instrument": Instrument("TEST", 5.0, 0.25)}
    defaults.update(config)
    result = Backtest(seconds(rows), BacktestConfig(**defaults), sink=recorder,
                      strategy=strategy).run()
    return recorder, result


class TestLoop:
    def test_orders_from_a_close_trade_from_the_next_candle_s_first_second(self) -> None:
        strategy = Scripted()
        recorder, result = run(strategy, minutes(3))
        first, second = result.fills
        assert (first.ts, first.price, first.qty) == (T0 + MINUTE, 101.0, 2.0)
        # the exit limit (101.5) was submitted at the fill and trades from the next second
        assert (second.ts, second.price, second.qty) == (T0 + MINUTE + NS_PER_SECOND, 101.5, 1.0)
        assert strategy.fills == [("o-1", 2.0), ("o-2", 1.0)]
        assert result.position == 1.0
        assert strategy.stopped

    def test_the_strategy_sees_history_up_to_the_closed_candle_only(self) -> None:
        strategy = Scripted()
        run(strategy, minutes(3))
        assert strategy.seen == [(0, 1, 200.0), (1, 2, 202.0), (2, 3, 204.0)]

    def test_history_and_values_reach_back_n_candles(self) -> None:
        class Looker(Scripted):
            def on_bar(self, ctx: Context, bar: Bar) -> None:
                if bar.idx == 3:
                    self.looked = (ctx.history("close", 2).tolist(),
                                   ctx.values("twice", 2).tolist(), ctx.value("twice", 3))

        strategy = Looker()
        run(strategy, minutes(5))
        assert strategy.looked == ([102.0, 103.0], [204.0, 206.0], 200.0)

    def test_events_go_out_in_contract_form(self) -> None:
        recorder, _result = run(Scripted(), minutes(3))
        kinds = [event["type"] for event in recorder.events]
        assert kinds[0] == "instrument"
        assert kinds[-1] == "run_end"
        assert recorder.events[0] == {"type": "instrument", "symbol": "TEST", "multiplier": 5.0,
                                      "tick_size": 0.25, "currency": "USD"}
        assert recorder.events[-1]["ts"] == T0 + 3 * MINUTE
        bars = recorder.of_type("bar")
        market = [b for b in bars if "series" not in b]
        run_bars = [b for b in bars if b.get("series") == "run"]
        assert [b["ts"] for b in market] == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
        assert market[1] == {"type": "bar", "symbol": "TEST", "timeframe": "1m",
                             "ts": T0 + MINUTE, "open": 101.0, "high": 101.5, "low": 100.5,
                             "close": 101.0, "volume": 600.0}
        # indicator values per candle; NaN ones are left out; recorded values join them
        assert [b["values"] for b in run_bars] == [
            {"twice": 200.0, "position": 0.0},
            {"twice": 202.0, "position": 1.0},
            {"twice": 204.0, "position": 1.0},
        ]
        orders = recorder.of_type("order")
        assert [(o["order_id"], o["status"]) for o in orders] == [
            ("o-1", "new"), ("o-1", "working"), ("o-1", "filled"),
            ("o-2", "new"), ("o-2", "working"), ("o-2", "filled"),
        ]
        assert orders[0]["ts"] == T0 + MINUTE  # submitted at the first candle's close
        assert len({o["id"] for o in orders}) == len(orders)
        fills = recorder.of_type("execution")
        assert fills[0] == {"type": "execution", "id": "x-1", "order_id": "o-1",
                            "ts": T0 + MINUTE, "symbol": "TEST", "side": "buy", "qty": 2.0,
                            "price": 101.0, "commission": 0.0}

    def test_trades_and_metrics_are_the_service_s(self) -> None:
        class RoundTrip(Scripted):
            def on_bar(self, ctx: Context, bar: Bar) -> None:
                if bar.idx == 0:
                    ctx.buy(2)
                elif bar.idx == 2:
                    ctx.flatten()

            def on_fill(self, ctx: Context, fill: Execution) -> None:
                if fill.side == "buy":
                    assert (ctx.position, ctx.avg_price, ctx.realised_pnl) == (2.0, 101.0, -2.0)

            def on_stop(self, ctx: Context) -> None:
                self.final = (ctx.position, ctx.avg_price, ctx.realised_pnl, ctx.commission)

        strategy = RoundTrip()
        _recorder, result = run(
            strategy, minutes(4), rules=FillRules(commission_per_contract=1.0),
            initial_capital=10_000.0,
        )
        assert strategy.final == (0.0, None, 16.0, 4.0)  # position, avg price, realised, fees
        [trade] = result.closed_trades
        # long 2 at 101 (minute 1's open), out at 103 (minute 3's open); multiplier 5
        assert (trade.entry_price, trade.exit_price) == (101, 103)
        assert float(trade.gross_pnl) == 20.0
        assert float(trade.net_pnl) == 16.0
        assert result.metrics["net_pnl"] == 16.0
        assert result.metrics["trade_count"] == 1
        assert result.metrics["win_rate"] == 1.0

    def test_orders_still_working_at_the_end_are_cancelled_then(self) -> None:
        class Patient(Scripted):
            def on_bar(self, ctx: Context, bar: Bar) -> None:
                if bar.idx == 0:
                    ctx.buy(1, order_type="limit", limit_price=50.0)

        recorder, _result = run(Patient(), minutes(3))
        last = recorder.of_type("order")[-1]
        assert (last["status"], last["ts"], last["reason"]) == (
            "cancelled", T0 + 3 * MINUTE, "the backtest ended")
        assert recorder.events[-1]["type"] == "run_end"

    def test_an_indicator_of_the_wrong_length_is_refused(self) -> None:
        class Broken(Scripted):
            def indicators(self, candles: Candles) -> dict[str, FloatArray]:
                return {"short": np.zeros(len(candles) - 1)}

        with pytest.raises(ValueError, match="indicator 'short' has 2 values for 3 candles"):
            run(Broken(), minutes(3))


class TestBuiltIns:
    @pytest.mark.parametrize("name", ["ma_cross", "rsi_reversion", "donchian"])
    def test_each_trades_on_a_random_walk(self, name: str) -> None:
        bars = random_walk(120_000, seed=11)
        recorder = Recorder()
        config = BacktestConfig(name, {}, "1m", Instrument("SYNTH", 1.0, 0.25))
        result = Backtest(bars, config, sink=recorder).run()
        assert len(result.closed_trades) >= 5
        assert result.metrics["trade_count"] == len(result.closed_trades)
        run_bars = [b for b in recorder.of_type("bar") if b.get("series") == "run"]
        assert len(run_bars) == result.candles == 2_000
        assert run_bars[-1]["values"]

    def test_donchian_protects_each_entry_with_a_bracket(self) -> None:
        bars = random_walk(120_000, seed=11)
        recorder = Recorder()
        config = BacktestConfig("donchian", {"channel": 10}, "1m", Instrument("SYNTH", 1.0, 0.25))
        result = Backtest(bars, config, sink=recorder).run()
        orders = recorder.of_type("order")
        legs = {o["order_id"]: o for o in orders if o["parent_id"] is not None}
        assert legs
        exits = [f for f in result.fills if f.order_id in legs]
        entries = [f for f in result.fills if f.order_id not in legs]
        # every entry left through its stop or its target, but one still open at the end
        assert len(entries) - len(exits) == abs(result.position)
        for fill in exits:
            leg = legs[fill.order_id]
            assert leg["order_type"] in ("stop", "limit")

    def test_the_registry_lists_parameters_with_defaults_and_ranges(self) -> None:
        names = [entry["name"] for entry in catalogue()]
        assert {"ma_cross", "rsi_reversion", "donchian"} <= set(names)
        fast = next(p for p in get("ma_cross").parameters if p.name == "fast")
        assert fast.describe()["default"] == 10
        assert fast.minimum == 1

    def test_parameters_are_parsed_and_checked(self) -> None:
        cls = get("ma_cross")
        assert cls.resolve({"fast": "5", "long_only": "true"})["fast"] == 5
        with pytest.raises(ValueError, match="fast: must be >= 1"):
            cls.resolve({"fast": 0})
        with pytest.raises(ValueError, match="fast: expected int"):
            cls.resolve({"fast": "2.5"})
        with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['speed'\]"):
            cls.resolve({"speed": 1})
        with pytest.raises(ValueError, match="unknown strategy 'nope'"):
            get("nope")
        with pytest.raises(ValueError, match="fast must be shorter than slow"):
            cls({"fast": 20, "slow": 20})
        with pytest.raises(ValueError, match="oversold <= exit_level <= overbought"):
            get("rsi_reversion")({"exit_level": 80})


class TestPaced:
    def test_replays_at_a_multiple_of_market_time(self) -> None:
        clock = [0.0]
        slept: list[float] = []

        def sleep(seconds_: float) -> None:
            slept.append(seconds_)
            clock[0] += seconds_

        recorder = Recorder()
        paced = Paced(recorder, 10.0, MINUTE, sleep=sleep, clock=lambda: clock[0])
        Backtest(seconds(minutes(5)), BacktestConfig("scripted", {}, "1m"), sink=paced,
                 strategy=Scripted()).run()
        # market time from the first event (minute 1's close) to the last bar's close: 4 min
        assert sum(slept) == pytest.approx(4 * 60 / 10)
        assert recorder.events[-1]["type"] == "run_end"
