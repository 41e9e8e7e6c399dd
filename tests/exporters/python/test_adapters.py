"""The backtesting.py and backtrader adapters, run with the real packages, against a live backend."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import backtrader as bt
import httpx
import numpy as np
import orjson
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA
from fillbook_exporter import Exporter, Spool
from fillbook_exporter.adapters.backtesting_py import export_backtest
from fillbook_exporter.adapters.backtrader import FillbookAnalyzer

from tests.exporters.python.helpers import RUN, pages, run_id, wait_derived
from tests.live_server import Account, LiveServer


def closed_trades(server: LiveServer, account: Account, key: str) -> list[dict[str, Any]]:
    wait_derived(server)
    rid = run_id(server, account, key)
    return [t for t in pages(server, account, f"/api/runs/{rid}/trades") if not t["open"]]


class SmaCross(Strategy):  # type: ignore[misc]  # backtesting is untyped
    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 20)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.position.close()
            self.buy(size=10, sl=self.data.Close[-1] * 0.9)
        elif crossover(self.slow, self.fast):
            self.position.close()
            self.sell(size=10, tp=self.data.Close[-1] * 0.9)


class TestBacktestingPy:
    def test_a_finished_backtest_arrives_whole(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        data = GOOG.iloc[:600]
        stats = Backtest(data, SmaCross, cash=100_000, commission=0.002,
                         finalize_trades=True).run()
        run = {"key": "smacross", "strategy": "SmaCross", "mode": "backtest",
               "initial_capital": 100_000}
        with Exporter(server.url, account.api_key, "backtesting", run,
                      spool_path=tmp_path / "bt.spool") as exporter:
            fills = export_backtest(exporter, stats, data, symbol="GOOG", tz="America/New_York")
            exporter.flush(timeout=60)
            assert exporter.stats["rejected"] == 0
        ours = stats["_trades"]
        assert fills == 2 * len(ours) > 20
        trades = closed_trades(server, account, "smacross")
        assert len(trades) == len(ours)
        assert math.isclose(sum(t["net_pnl"] for t in trades), float(ours["PnL"].sum()),
                            rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(sum(t["commission"] for t in trades), float(ours["Commission"].sum()),
                            rel_tol=1e-9)
        first = min(trades, key=lambda t: t["entry_ts"])
        entry = ours["EntryTime"].iloc[0].tz_localize("America/New_York").tz_convert("UTC")
        assert first["entry_ts"] == entry.strftime("%Y-%m-%dT%H:%M:%SZ")
        bars = httpx.get(f"{server.url}/api/bars", headers=account.headers,
                         params={"symbol": "GOOG", "timeframe": "1d", "limit": 1000}).json()
        assert len(bars["bars"]) == len(data)
        rid = run_id(server, account, "smacross")
        orders = list(pages(server, account, f"/api/runs/{rid}/orders"))
        assert len(orders) == fills
        assert {o["order_type"] for o in orders} <= {"market", "stop", "limit"}

        # Exporting the same stats again sends nothing new.
        with Exporter(server.url, account.api_key, "backtesting", run,
                      spool_path=tmp_path / "again.spool") as again:
            export_backtest(again, stats, data, symbol="GOOG", tz="America/New_York")
            again.flush(timeout=60)
            assert again.stats["accepted"] == 0


def minute_bars(count: int) -> pd.DataFrame:
    """A deterministic random walk of 5-minute bars, stamped at their end (backtrader's way)."""
    rng = np.random.default_rng(7)
    close = 100 + np.cumsum(rng.normal(0, 0.4, count))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.2, count))
    index = pd.date_range("2024-03-04 09:35", periods=count, freq="5min")
    return pd.DataFrame({
        "open": open_, "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread, "close": close,
        "volume": rng.integers(100, 1000, count).astype(float),
    }, index=index)


class CrossWithLimits(bt.Strategy):  # type: ignore[misc]  # backtrader is untyped
    """SMA cross with market entries, a resting limit order that gets cancelled, flat at the end."""

    def __init__(self) -> None:
        self.cross = bt.indicators.CrossOver(bt.indicators.SMA(period=5), bt.indicators.SMA(period=15))
        self.own_fills: list[tuple[float, float]] = []
        self.resting: Any = None

    def notify_order(self, order: Any) -> None:
        for bit in order.executed.iterpending():
            self.own_fills.append((bit.size, bit.price))

    def next(self) -> None:
        if len(self) >= self.data.buflen() - 1:
            if self.position:
                self.close()
            return
        if self.resting is not None and self.resting.alive():
            self.cancel(self.resting)
        if self.cross > 0:
            self.close()
            self.buy(size=2)
            self.resting = self.buy(size=1, price=self.data.close[0] - 50, exectype=bt.Order.Limit)
        elif self.cross < 0:
            self.close()
            self.sell(size=2)


class TestBacktrader:
    def test_orders_and_fills_stream_while_the_strategy_runs(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        frame = minute_bars(300)
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes,
                                            compression=5), name="ACME")
        cerebro.addstrategy(CrossWithLimits)
        cerebro.broker.setcash(10_000.0)
        cerebro.broker.setcommission(commission=0.001)
        run = {"key": "bt-cross", "strategy": "Cross", "mode": "backtest",
               "initial_capital": 10_000}
        with Exporter(server.url, account.api_key, "backtrader", run,
                      spool_path=tmp_path / "btr.spool", max_batch_age=0.05) as exporter:
            cerebro.addanalyzer(FillbookAnalyzer, exporter=exporter, tz="Europe/Berlin")
            (strategy,) = cerebro.run()
            exporter.flush(timeout=60)
            assert exporter.stats["rejected"] == 0
        assert not strategy.position
        rid = run_id(server, account, "bt-cross")
        stored = list(pages(server, account, f"/api/runs/{rid}/executions"))
        assert len(stored) == len(strategy.own_fills) > 10
        assert sorted(f["price"] for f in stored) == sorted(p for _, p in strategy.own_fills)

        trades = closed_trades(server, account, "bt-cross")
        assert math.isclose(sum(t["net_pnl"] for t in trades),
                            cerebro.broker.getvalue() - 10_000.0, abs_tol=1e-6)

        orders = {o["order_id"]: o for o in pages(server, account, f"/api/runs/{rid}/orders")}
        statuses = {o["status"] for o in orders.values()}
        assert {"filled", "cancelled"} <= statuses
        limits = [o for o in orders.values() if o["order_type"] == "limit"]
        assert limits
        assert all(o["limit_price"] for o in limits)

        bars = httpx.get(f"{server.url}/api/bars", headers=account.headers,
                         params={"symbol": "ACME", "timeframe": "5m", "limit": 1000}).json()
        assert len(bars["bars"]) == len(frame)
        # 09:35 Berlin (CET, +01:00) is the first bar's end: it opened 08:30 UTC.
        assert bars["bars"][0]["ts"] == "2024-03-04T08:30:00Z"
        detail = httpx.get(f"{server.url}/api/runs/{rid}", headers=account.headers).json()
        assert detail["status"] == "completed"


def fall_back_bars() -> pd.DataFrame:
    """5-minute bars stamped at their end in Berlin wall time through 2023-10-29's night,
    as a platform on local time writes them: the 02:xx hour twice."""
    night = dt.datetime(2023, 10, 29)  # noqa: DTZ001  # naive on purpose: wall time
    minutes = [65 + 5 * n for n in range(11)]  # 01:05 .. 01:55
    minutes += [120 + 5 * n for n in range(12)] * 2  # 02:00 .. 02:55, twice
    minutes += [180 + 5 * n for n in range(7)]  # 03:00 .. 03:30
    index = pd.DatetimeIndex([night + dt.timedelta(minutes=m) for m in minutes])
    close = 4200 + np.arange(len(index)) * 0.25
    return pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": 10.0}, index=index)


class BuyInTheSecondPass(bt.Strategy):  # type: ignore[misc]  # backtrader is untyped
    def next(self) -> None:
        if len(self) == 26:  # the bar ending 02:10 on the second pass
            self.buy(size=1)
        elif len(self) == 30:
            self.close()


class TestBacktraderAcrossDst:
    def test_the_repeated_hour_keeps_its_bars_and_fills_apart(self, tmp_path: Path) -> None:
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=fall_back_bars(), compression=5,
                                            timeframe=bt.TimeFrame.Minutes), name="MESZ3")
        cerebro.addstrategy(BuyInTheSecondPass)
        spool = tmp_path / "dst.spool"
        # Nothing listens and no batch is ever due: the events stay in the spool to be read.
        exporter = Exporter("http://127.0.0.1:9", "key", "backtrader", RUN, spool_path=spool,
                            batch_size=10_000, max_batch_age=3600)
        cerebro.addanalyzer(FillbookAnalyzer, exporter=exporter, tz="Europe/Berlin")
        cerebro.run()
        exporter.close(timeout=0)
        left = Spool(spool)
        batch = left.next_batch(10_000, 10**8)
        left.close()
        assert batch is not None
        events = [orjson.loads(body) for body in batch.bodies]
        bars = [pd.Timestamp(e["ts"], tz="UTC") for e in events if e["type"] == "bar"]
        assert len(bars) == 42
        assert bars[0] == pd.Timestamp("2023-10-28T23:00:00Z")  # 01:05 CEST ends it
        assert {later - earlier for earlier, later in zip(bars, bars[1:], strict=False)} == {
            pd.Timedelta(minutes=5)}  # no bar of the second pass lands on the first
        fills = [pd.Timestamp(e["ts"], tz="UTC") for e in events if e["type"] == "execution"]
        # Market orders fill on the next bar: 02:15 and 02:35 of the second pass (CET).
        assert fills == [pd.Timestamp("2023-10-29T01:15:00Z"), pd.Timestamp("2023-10-29T01:35:00Z")]
