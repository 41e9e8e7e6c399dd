"""Launching backtests and reading their status.

A backtest runs on an uploaded 1-second CSV (streamed to the data directory) or
on the user's 1-second bars already stored. The service checks the strategy,
its parameters and the interval at once (422 naming the field), creates an API
key for the backtest and the `backtest` row, commits them, and only then hands
the job to the manager, so the worker never pushes with a key the database
does not hold yet. The key is revoked when the backtest ends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy.orm import Session

from backend.api.context import AppContext
from backend.api.params import query_time
from backend.auth.schemas import ApiKeyCreate
from backend.auth.scopes import Scope
from backend.auth.service import create_api_key
from backend.backtests import repository
from backend.backtests.manager import Launch, manager
from backend.backtests.schemas import BacktestSettings, StrategyRead
from backend.backtests.worker import WorkerJob
from backend.db.models import Backtest, User
from backend.errors import Conflict, InvalidPayload, NotFound, PayloadTooLarge, TooManyRequests
from backend.file_modes import open_private, private_dir
from backend.market import repository as market
from backend.market.timeframes import parse_timeframe
from services.backtester.registry import catalogue, get

SOURCE = "backtester"
DEFAULT_TICK = 0.01
UPLOAD_CHUNK = 1 << 20
MAX_UPLOAD_BYTES = 2 << 30  # 2 GiB: a year of 1-second bars is ~1.2 GB of CSV


@dataclass(frozen=True)
class BacktestCreate:
    """The launch form, as received."""

    strategy: str
    interval: str
    params: str  # a JSON object
    symbol: str
    settings: str  # a JSON object of `BacktestSettings` fields
    upload: BinaryIO | None
    base_url: str


def list_strategies() -> list[StrategyRead]:
    return [StrategyRead.model_validate(entry) for entry in catalogue()]


def create(context: AppContext, session: Session, user: User, data: BacktestCreate) -> Backtest:
    """Check the request, store the dataset, create the row and its key, start the worker."""
    _check_capacity(context, session, user)
    params = _params(data.strategy, data.params)
    try:
        parse_timeframe(data.interval)
    except ValueError as exc:
        raise InvalidPayload(f"interval: {exc}") from None
    settings = _settings(data.settings)
    symbol = data.symbol.strip()
    if not symbol or len(symbol) > 64:
        raise InvalidPayload(f"symbol: must be 1 to 64 characters, got {data.symbol!r}")
    start, end = query_time("settings.start", settings.start), query_time(
        "settings.end", settings.end
    )
    resolved, send_instrument = _instrument_settings(session, user.id, symbol, settings)
    directory = context.settings.data_dir / "backtests"
    dataset: Path | None = None
    if data.upload is None:
        series = market.series_by_timeframe(session, user.id, symbol)
        if 1 not in series:
            raise NotFound(
                f"symbol: no 1-second bars of {symbol!r} are stored; upload a CSV instead"
            )
    else:
        dataset = _save_upload(data.upload, directory / "uploads")
    launch = _Launch(
        strategy=data.strategy, interval=data.interval, params=params, symbol=symbol,
        settings=resolved, send_instrument=send_instrument, run_key=f"{data.strategy}-"
        f"{secrets.token_hex(6)}", base_url=data.base_url, dataset=dataset, start=start, end=end,
    )  # fmt: skip
    try:
        return _start(context, user, launch)
    except BaseException:
        if dataset is not None:
            dataset.unlink(missing_ok=True)
        raise


def _check_capacity(context: AppContext, session: Session, user: User) -> None:
    manager(context)
    limit = context.settings.max_backtests_per_user
    active = repository.count_active(session, user.id)
    if active >= limit:
        raise TooManyRequests(
            f"{active} backtests of yours are queued or running; at most {limit} at a time "
            "(MAX_BACKTESTS_PER_USER): wait for one to finish",
            retry_after=10,
        )


@dataclass(frozen=True)
class _Launch:
    strategy: str
    interval: str
    params: dict[str, Any]
    symbol: str
    settings: BacktestSettings  # multiplier, tick size and currency resolved
    send_instrument: bool
    run_key: str
    base_url: str
    dataset: Path | None = None
    start: int | None = None
    end: int | None = None
    synthetic_seconds: int | None = None
    source: str = SOURCE
    run_label: str | None = None


def _start(context: AppContext, user: User, launch: _Launch) -> Backtest:
    """Create the backtest row and its API key, commit them, then hand the job over."""
    settings = launch.settings.model_dump()
    settings["instrument"] = "sent" if launch.send_instrument else "stored"
    data_source = (
        "synthetic" if launch.synthetic_seconds is not None
        else "stored" if launch.dataset is None else "upload"
    )  # fmt: skip
    with context.db.session(write=True) as writer:
        backtest = Backtest(
            user_id=user.id,
            status="queued",
            strategy=launch.strategy,
            interval=launch.interval,
            params=launch.params,
            symbol=launch.symbol,
            data_source=data_source,
            settings=settings,
            run_key=launch.run_key,
        )
        writer.add(backtest)
        writer.flush()
        # The worker reads stored bars and pushes the run with it (revoked when done).
        scopes = [Scope.INGEST, Scope.READ]
        new_key = ApiKeyCreate(name=f"backtest #{backtest.id}", scopes=scopes)
        key = create_api_key(writer, user, new_key)
        backtest.api_key_id = key.id
        writer.flush()
    job = WorkerJob(
        backtest_id=backtest.id,
        url=launch.base_url.rstrip("/"),
        api_key=key.key,
        run_key=launch.run_key,
        strategy=launch.strategy,
        interval=launch.interval,
        params=launch.params,
        symbol=launch.symbol,
        settings=settings,
        dataset=None if launch.dataset is None else str(launch.dataset),
        spool_dir=str(context.settings.data_dir / "backtests" / "spool"),
        start=launch.start,
        end=launch.end,
        send_instrument=launch.send_instrument,
        synthetic_seconds=launch.synthetic_seconds,
        source=launch.source,
        run_label=launch.run_label,
    )
    manager(context).submit(Launch(job, user.id))
    return backtest


def _instrument_settings(
    session: Session, user_id: int, symbol: str, settings: BacktestSettings
) -> tuple[BacktestSettings, bool]:
    """The settings priced by the symbol's stored instrument, and whether to send one.

    A backtest never changes an instrument: a stored one (or, without one, the
    multiplier 1 the symbol's existing trades were priced with) is used as it is,
    and a form value that differs from it is a 409 naming both. A new symbol gets
    the form's values (multiplier 1, tick 0.01, USD by default), sent with the run.
    """
    stored = repository.instrument(session, user_id, symbol)
    if stored is None and repository.trade_count(session, user_id, symbol) == 0:
        return settings.model_copy(update={
            "multiplier": settings.multiplier or 1.0,
            "tick_size": settings.tick_size or DEFAULT_TICK,
            "currency": settings.currency or "USD",
        }), True  # fmt: skip
    kept = {
        "multiplier": stored.multiplier if stored else 1.0,
        "tick_size": stored.tick_size if stored else None,
        "currency": stored.currency if stored else None,
    }
    for name, value in kept.items():
        asked = getattr(settings, name)
        if asked is not None and value is not None and asked != value:
            raise Conflict(
                f"settings.{name}: {symbol} is stored with {name.replace('_', ' ')} "
                f"{_shown(value)}, this backtest asks {_shown(asked)}. A backtest prices with "
                f"the stored instrument and never changes it: leave {name} out (or send "
                f"{_shown(value)}), or change the instrument on the Instruments page (PATCH "
                f"/api/instruments/{symbol}), which re-prices its existing runs",
                extra={"instrument": {"symbol": symbol, **kept}},
            )
    return settings.model_copy(update={
        "multiplier": kept["multiplier"],
        "tick_size": kept["tick_size"] or settings.tick_size or DEFAULT_TICK,
        "currency": kept["currency"] or settings.currency or "USD",
    }), False  # fmt: skip


def list_backtests(
    context: AppContext, session: Session, user_id: int, limit: int
) -> Sequence[Backtest]:
    manager(context)  # its heartbeat marks backtests whose process died
    return repository.list_for_user(session, user_id, limit)


def get_backtest(
    context: AppContext, session: Session, user_id: int, backtest_id: int
) -> Backtest:
    manager(context)
    backtest = repository.get(session, user_id, backtest_id)
    if backtest is None:
        raise NotFound(f"backtest {backtest_id} not found")
    return backtest


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _params(strategy: str, text: str) -> dict[str, Any]:
    try:
        cls = get(strategy)
    except ValueError as exc:
        raise InvalidPayload(f"strategy: {exc}") from None
    try:
        raw = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidPayload(f"params: not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidPayload(f"params: expected a JSON object, got {type(raw).__name__}")
    try:
        return dict(cls(raw).params)  # each value, and how they go together
    except ValueError as exc:
        raise InvalidPayload(f"params: {exc}") from None


def _settings(text: str) -> BacktestSettings:
    try:
        return BacktestSettings.model_validate_json(text or "{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidPayload(f"settings.{where}: {first['msg']}") from None


def _save_upload(upload: BinaryIO, directory: Path) -> Path:
    """Stream the upload to disk in 1 MiB pieces; 413 past `MAX_UPLOAD_BYTES`, 422 if empty."""
    private_dir(directory)
    path = directory / f"{secrets.token_hex(8)}.csv"
    size = 0
    try:
        with open_private(path) as out:  # 0600: a trader's data
            while chunk := upload.read(UPLOAD_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise PayloadTooLarge(f"file: larger than {MAX_UPLOAD_BYTES} bytes")
                out.write(chunk)
        if size == 0:
            raise InvalidPayload("file: the uploaded dataset is empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# -- demo data ---------------------------------------------------------------------------

DEMO_SOURCE = "demo"
DEMO_RUN_KEY = "demo"
DEMO_SYMBOL = "DEMO"
DEMO_STRATEGY = "Demo: ma_cross on synthetic bars"
DEMO_SECONDS = 30 * 86_400  # 30 days of 1-second bars (22 business days: Sharpe and
# the other annualised figures need 20), 8,640 five-minute candles
DEMO_INSTRUMENT = {"multiplier": 5.0, "tick_size": 0.25, "currency": "USD"}
DEMO_COSTS = {"commission": 0.62, "slippage_ticks": 1.0, "initial_capital": 25_000.0}


def demo(session: Session, user_id: int, context: AppContext | None = None) -> Backtest | None:
    """The user's demo backtest, if demo data is loaded."""
    if context is not None:
        manager(context)  # its heartbeat marks backtests whose process died
    return repository.find_by_run_key(session, user_id, DEMO_RUN_KEY, "synthetic")


def load_demo(
    context: AppContext, session: Session, user: User, base_url: str
) -> tuple[Backtest, bool]:
    """Start the demo backtest unless one is loaded or loading; (backtest, started now).

    Idempotent: a second call returns the first backtest. A failed one is run again
    (its events carry the same ids, so whatever it pushed counts as duplicates).
    """
    existing = demo(session, user.id)
    if existing is not None and existing.status != "failed":
        return existing, False
    _check_capacity(context, session, user)
    stored = repository.instrument(session, user.id, DEMO_SYMBOL)
    settings = BacktestSettings.model_validate(
        {**(DEMO_INSTRUMENT if stored is None else {}), **DEMO_COSTS}
    )
    resolved, send_instrument = _instrument_settings(session, user.id, DEMO_SYMBOL, settings)
    launch = _Launch(
        strategy="ma_cross", interval="5m", params=_params("ma_cross", "{}"),
        symbol=DEMO_SYMBOL, settings=resolved, send_instrument=send_instrument,
        run_key=DEMO_RUN_KEY, base_url=base_url, synthetic_seconds=DEMO_SECONDS,
        source=DEMO_SOURCE, run_label=DEMO_STRATEGY,
    )  # fmt: skip
    return _start(context, user, launch), True


def remove_demo(session: Session, user_id: int) -> int:
    """Delete the demo run and everything it brought; 409 while it is still running."""
    existing = demo(session, user_id)
    if existing is not None and existing.status in ("queued", "running"):
        raise Conflict("the demo backtest is still running: remove it once it has finished")
    return repository.delete_demo(
        session, user_id, source=DEMO_SOURCE, run_key=DEMO_RUN_KEY, symbol=DEMO_SYMBOL,
        strategy=DEMO_STRATEGY,
    )  # fmt: skip
