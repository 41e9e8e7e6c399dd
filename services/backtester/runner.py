"""The library call behind `python -m services.backtester run`: data in, run pushed, result out.

    result = run_backtest(
        RunSpec(data="bars.csv", strategy="ma_cross", interval="5m", params={"fast": 10}),
        push=PushTarget("http://127.0.0.1:8000", api_key),
    )
    result.metrics["net_pnl"], result.run_key
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from backend.market.timeframes import parse_timeframe
from services.backtester.data import LoadReport, Seconds, load_csv, load_stored, read_capped
from services.backtester.engine import Backtest, BacktestConfig, BacktestResult, Progress
from services.backtester.matching import FillRules
from services.backtester.registry import get
from services.backtester.sinks import ExporterSink, Instrument, Paced, Sink, spool_for

SOURCE = "backtester"
MAX_RUN_KEY = 150


@dataclass(frozen=True)
class StoredBars:
    """1-second bars already in Fillbook, read through `GET /api/bars`."""

    url: str
    credential: str
    symbol: str
    start: int | None = None
    end: int | None = None
    timeframe: str = "1s"


@dataclass(frozen=True)
class PushTarget:
    """Where the run goes: a Fillbook URL and a credential (API key or access token)."""

    url: str
    credential: str
    source: str = SOURCE
    run_key: str | None = None
    instance: str | None = None
    spool_dir: Path | None = None
    fmt: str = "json"
    pace: float | None = None  # replay at this multiple of market time
    batch_size: int = 5000
    flush_timeout: float = 600.0
    # False: the symbol's instrument is already stored in Fillbook and must stay as it is
    send_instrument: bool = True
    strategy_name: str | None = None  # the run's strategy name; the plug-in's by default


@dataclass(frozen=True)
class RunSpec:
    data: str | Path | Seconds | StoredBars
    strategy: str
    interval: str = "5m"
    params: Mapping[str, Any] = field(default_factory=dict)
    instrument: Instrument = field(default_factory=lambda: Instrument("SYNTH"))
    rules: FillRules = field(default_factory=FillRules)
    initial_capital: float | None = 100_000.0

    def config(self) -> BacktestConfig:
        return BacktestConfig(
            strategy=self.strategy,
            params=dict(self.params),
            interval=self.interval,
            instrument=self.instrument,
            rules=self.rules,
            initial_capital=self.initial_capital,
        )


@dataclass
class RunOutcome:
    result: BacktestResult
    report: LoadReport | None
    run_key: str | None
    pushed: dict[str, int] | None


def load(data: str | Path | Seconds | StoredBars) -> tuple[Seconds, LoadReport | None]:
    """1-second bars from a CSV path, stored bars, or columns already in memory."""
    if isinstance(data, Seconds):
        return data, None
    if isinstance(data, StoredBars):
        return load_stored(
            data.url, data.credential, data.symbol,
            timeframe=data.timeframe, start=data.start, end=data.end,
        )
    return load_csv(data)


def check_target(push: PushTarget) -> None:
    """Fail before the backtest, not after it, when the service is unreachable or refuses
    the credential (the exporter would keep the events and retry for `flush_timeout`)."""
    headers = {"Authorization": f"Bearer {push.credential}"}
    try:
        with httpx.Client(base_url=push.url.rstrip("/"), timeout=10) as http:
            status, content = read_capped(http, "/api/runs", 64 * 1024,
                                          params={"limit": 1}, headers=headers)  # fmt: skip
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach Fillbook at {push.url}: {exc}") from exc
    # 403: the credential is good but may not read (an ingest-only API key): pushing needs
    # only the `ingest` scope, so that is no reason to stop.
    if status == 401:
        raise RuntimeError(
            f"Fillbook at {push.url} refused the credential ({status}): "
            f"{content[:200].decode(errors='replace')}"
        )


def check_instrument(push: PushTarget, instrument: Instrument) -> None:
    """Fail before the backtest when Fillbook holds the symbol with another multiplier: the
    service would refuse the instrument event and price the run with the stored one, so
    the run's money would not be this backtest's. Skipped when the credential may not read
    (an ingest-only key: 403) or the symbol is new (404)."""
    if not push.send_instrument:
        return
    headers = {"Authorization": f"Bearer {push.credential}"}
    path = f"/api/instruments/{quote(instrument.symbol, safe='')}"
    try:
        with httpx.Client(base_url=push.url.rstrip("/"), timeout=10) as http:
            status, content = read_capped(http, path, 64 * 1024, headers=headers)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach Fillbook at {push.url}: {exc}") from exc
    if status != 200:
        return
    stored = float(json.loads(content)["multiplier"])
    if stored != instrument.multiplier:
        raise RuntimeError(
            f"{instrument.symbol} is stored in Fillbook with multiplier {stored:g}; this "
            f"backtest asks {instrument.multiplier:g}. A backtest never changes a stored "
            f"instrument: pass --multiplier {stored:g}, or change the instrument first on "
            "the Instruments page (it re-prices the symbol's runs)"
        )


def new_run_key(strategy: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{strategy}-{stamp}-{secrets.token_hex(3)}"


def run_backtest(
    spec: RunSpec,
    *,
    push: PushTarget | None = None,
    progress: Progress | None = None,
    seconds: Seconds | None = None,
) -> RunOutcome:
    """Load the data, run the strategy, push the run if `push` is given; wait for delivery."""
    config = spec.config()
    strategy = get(spec.strategy)(spec.params)  # bad names and parameters fail before loading
    report: LoadReport | None = None
    if seconds is None:
        seconds, report = load(spec.data)
    if not len(seconds):
        raise ValueError("no 1-second bars to run on (every row was dropped or the data is empty)")
    if push is None:
        result = Backtest(seconds, config, progress=progress, strategy=strategy).run()
        result.report = report
        return RunOutcome(result, report, None, None)

    from fillbook_exporter import Exporter, ExporterError  # needed only to push

    run_key = push.run_key or new_run_key(spec.strategy)
    if not 0 < len(run_key) <= MAX_RUN_KEY:
        # event ids are `<run key>:<id>` and the service takes ids of up to 200 characters
        raise ValueError(f"run key: 1 to {MAX_RUN_KEY} characters, got {len(run_key)}")
    check_target(push)
    check_instrument(push, spec.instrument)

    spool_dir = push.spool_dir or Path(tempfile.gettempdir()) / "fillbook-backtester"
    spool_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a run's every fill, spooled
    run: dict[str, Any] = {
        "key": run_key,
        "strategy": push.strategy_name or spec.strategy,
        "instance": push.instance or f"{spec.instrument.symbol} {spec.interval}",
        "mode": "backtest",
        "params": dict(strategy.params),
    }
    if spec.initial_capital is not None:
        run["initial_capital"] = spec.initial_capital
    exporter = Exporter(
        push.url,
        push.credential,
        push.source,
        run,
        spool_path=spool_for(spool_dir, run_key),
        fmt="msgpack" if push.fmt == "msgpack" else "json",
        batch_size=push.batch_size,
        max_batch_age=0.25 if push.pace else 1.0,
    )
    exporter_sink = ExporterSink(
        exporter, id_prefix=f"{run_key}:", send_instrument=push.send_instrument
    )
    sink: Sink = exporter_sink
    if push.pace:
        sink = Paced(
            exporter_sink,
            push.pace,
            parse_timeframe(spec.interval) * 1_000_000_000,
            on_wait=exporter_sink.commit,
        )
    try:
        result = Backtest(seconds, config, sink=sink, progress=progress, strategy=strategy).run()
        exporter.flush(push.flush_timeout)
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the first failure is the one to report
            exporter_sink.commit()
            exporter.close(timeout=5.0)
        if isinstance(exc, ExporterError):
            raise RuntimeError(f"Fillbook refused the run's events: {exc}") from exc
        raise
    stats = exporter.stats
    exporter.close()
    spool = spool_for(spool_dir, run_key)
    for leftover in (spool, Path(f"{spool}-wal"), Path(f"{spool}-shm")):
        leftover.unlink(missing_ok=True)  # everything in it was acknowledged
    result.report = report
    return RunOutcome(result, report, run_key, stats)
