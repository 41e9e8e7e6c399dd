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
from backend.errors import InvalidPayload, NotFound, PayloadTooLarge, TooManyRequests
from backend.file_modes import open_private, private_dir
from backend.market import repository as market
from backend.market.timeframes import parse_timeframe
from services.backtester.registry import catalogue, get

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
    backtests = manager(context)
    limit = context.settings.max_backtests_per_user
    active = repository.count_active(session, user.id)
    if active >= limit:
        raise TooManyRequests(
            f"{active} backtests of yours are queued or running; at most {limit} at a time "
            "(MAX_BACKTESTS_PER_USER): wait for one to finish",
            retry_after=10,
        )
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

    run_key = f"{data.strategy}-{secrets.token_hex(6)}"
    try:
        with context.db.session(write=True) as writer:
            backtest = Backtest(
                user_id=user.id,
                status="queued",
                strategy=data.strategy,
                interval=data.interval,
                params=params,
                symbol=symbol,
                data_source="stored" if dataset is None else "upload",
                settings=settings.model_dump(),
                run_key=run_key,
            )
            writer.add(backtest)
            writer.flush()
            # The worker reads stored bars and pushes the run with it (revoked when done).
            scopes = [Scope.INGEST, Scope.READ]
            new_key = ApiKeyCreate(name=f"backtest #{backtest.id}", scopes=scopes)
            key = create_api_key(writer, user, new_key)
            backtest.api_key_id = key.id
            writer.flush()
    except BaseException:
        if dataset is not None:
            dataset.unlink(missing_ok=True)
        raise
    job = WorkerJob(
        backtest_id=backtest.id,
        url=data.base_url.rstrip("/"),
        api_key=key.key,
        run_key=run_key,
        strategy=data.strategy,
        interval=data.interval,
        params=params,
        symbol=symbol,
        settings=settings.model_dump(),
        dataset=None if dataset is None else str(dataset),
        spool_dir=str(directory / "spool"),
        start=start,
        end=end,
    )
    backtests.submit(Launch(job, user.id))
    return backtest


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
