"""Confirm: put a staged import's fills into a run through the ingest path, in the background.

The fills go to the ingest writer as ordinary batches (backend/ingest: the contract's
validation, the one writer, duplicates by (user, source, id), dead letters, derivations),
at most MAX_EVENTS a batch, the instruments first. After each batch the record's progress
is written and an `import_progress` message goes to the user's live clients; at the end
the positions touched are awaited until derived (at most DERIVE_WAIT_SECONDS), their trades
counted, the summary stored and `import_finished` published. The upload's file is removed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from backend.api.context import AppContext
from backend.db.models import StatementImport
from backend.errors import AppError, InvalidPayload, NotFound
from backend.imports import repository, service, storage
from backend.imports.schemas import ImportConfirm, ImportStatus, ImportSummary, RowProblem
from backend.ingest.batch import PositionKey, PreparedBatch, StoredBatch
from backend.ingest.schemas import MAX_EVENTS, RunRef

log = logging.getLogger(__name__)

IMPORT_SOURCE = "import"
DERIVE_WAIT_SECONDS = 60.0
_TASKS: set[asyncio.Task[None]] = set()


def _run_for(context: AppContext, user_id: int, row_id: int, filename: str,
             body: ImportConfirm) -> tuple[str, RunRef]:  # fmt: skip
    if body.run_id is not None and body.new_run is not None:
        raise InvalidPayload("run_id and new_run: give one of them, not both")
    if body.run_id is not None:
        with context.db.session() as session:
            found = repository.run_ref(session, user_id, body.run_id)
        if found is None:
            raise NotFound(f"run {body.run_id} not found")
        source, key, strategy, instance, mode = found
        return source, RunRef(key=key, strategy=strategy, instance=instance, mode=mode)
    name = body.new_run.name if body.new_run else f"Import {filename}"[:200]
    mode = body.new_run.mode if body.new_run else "live"
    return IMPORT_SOURCE, RunRef(key=f"import-{row_id}", strategy=name, mode=mode)


def _start(context: AppContext, user_id: int, import_id: int,
           body: ImportConfirm) -> tuple[str, RunRef, service.Outcome, list[int]]:  # fmt: skip
    """Mark the import running (once: a second confirm is 409) with what it will store."""
    data_dir = context.settings.data_dir
    with context.db.session() as session:
        row = service.staged(session, user_id, import_id)
        filename = row.filename
        data = service.read_file(data_dir, row)
        outcome = service.parse(session, data, row, account=body.account)
    if outcome.needs_mapping:
        raise InvalidPayload(f"import {import_id}: pick the columns first (PUT "
                             f"/api/imports/{import_id}/mapping)")  # fmt: skip
    if outcome.needs_tz:
        raise InvalidPayload(f"tz: {outcome.fmt.label} times need a time zone (PATCH "
                             f"/api/imports/{import_id} with tz)")  # fmt: skip
    source, run = _run_for(context, user_id, import_id, filename, body)
    with context.db.session(write=True) as session:
        row = service.staged(session, user_id, import_id)
        row.state, row.progress_done = "running", 0
        row.progress_total = len(outcome.fills)
    rows = [fill.row for fill in outcome.fills]
    return source, run, outcome, rows


async def confirm(context: AppContext, user_id: int, import_id: int,
                  body: ImportConfirm) -> ImportStatus:  # fmt: skip
    source, run, outcome, rows = await run_in_threadpool(_start, context, user_id, import_id,
                                                         body)  # fmt: skip
    task = asyncio.get_running_loop().create_task(
        _run(context, user_id, import_id, source, run, outcome, rows))
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return await run_in_threadpool(service.get, context.db, user_id, import_id)


async def _run(context: AppContext, user_id: int, import_id: int, source: str, run: RunRef,
               outcome: service.Outcome, rows: list[int]) -> None:  # fmt: skip
    instruments = [plan.event for plan in outcome.instruments if plan.event is not None]
    events = outcome.events
    total = len(events)
    stored = duplicates = 0
    refused: list[RowProblem] = []
    positions: dict[PositionKey, int] = {}
    run_id: int | None = None
    try:
        if instruments:  # a batch of their own, so that the fill batches count only fills
            result = await context.ingest.writer.submit(
                PreparedBatch(user_id, source, run, list(enumerate(instruments)), []))
            run_id = result.run_id
            refused += [RowProblem(row=0, reason=f"instrument "
                                   f"{instruments[r.index]['symbol']}: {r.error}")
                        for r in result.rejected]  # fmt: skip
        for start in range(0, total, MAX_EVENTS):
            chunk: list[Any] = events[start : start + MAX_EVENTS]
            result = await context.ingest.writer.submit(
                PreparedBatch(user_id, source, run, list(enumerate(chunk)), []))
            run_id = result.run_id
            refused += [RowProblem(row=rows[start + r.index], reason=r.error)
                        for r in result.rejected]  # fmt: skip
            stored += result.accepted
            duplicates += result.duplicates
            for key, ts in result.positions.items():
                positions[key] = min(ts, positions.get(key, ts))
            done = start + len(chunk)
            await run_in_threadpool(_progress, context, import_id, done, total, run_id)
            context.broker.publish(user_id, {"type": "import_progress", "import_id": import_id,
                                             "done": done, "total": total})  # fmt: skip
        if run_id is None:  # nothing new to store: the run is still named in the summary
            result = await context.ingest.writer.submit(PreparedBatch(user_id, source, run, [], []))
            run_id = result.run_id
        assert run_id is not None
        touched = StoredBatch(run_id=run_id, user_id=user_id, positions=positions)
        await context.ingest.wait_derived(touched, DERIVE_WAIT_SECONDS)
        summary = ImportSummary(
            stored=stored, duplicates=duplicates + len(outcome.duplicates),
            refused_total=len(refused), refused=refused[:100],
            trades_rebuilt=await run_in_threadpool(_trades, context, run_id, positions),
            run_id=run_id,
        )  # fmt: skip
        await run_in_threadpool(_finish, context, user_id, import_id, "done", summary, None)
    except Exception as exc:
        log.exception("import %s failed", import_id)
        reason = exc.detail if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        await run_in_threadpool(_finish, context, user_id, import_id, "failed", None,
                                reason[:1000])  # fmt: skip
    status = await run_in_threadpool(service.get, context.db, user_id, import_id)
    context.broker.publish(user_id, {
        "type": "import_finished", "import_id": import_id, "state": status.state,
        "summary": None if status.summary is None else status.summary.model_dump(mode="json"),
    })  # fmt: skip


def _progress(context: AppContext, import_id: int, done: int, total: int, run_id: int) -> None:
    with context.db.session(write=True) as session:
        repository.set_progress(session, import_id, done, total)
        row = session.get(StatementImport, import_id)
        if row is not None:
            row.run_id = run_id


def _trades(context: AppContext, run_id: int, positions: dict[PositionKey, int]) -> int:
    with context.db.session() as session:
        return repository.trade_count(session, run_id,
                                      [(key.account, key.symbol) for key in positions])  # fmt: skip


def _finish(context: AppContext, user_id: int, import_id: int, state: str,
            summary: ImportSummary | None, error: str | None) -> None:  # fmt: skip
    data_dir: Path = context.settings.data_dir
    with context.db.session(write=True) as session:
        row = repository.get(session, user_id, import_id)
        if row is not None:
            row.state, row.error = state, error
            row.summary = None if summary is None else summary.model_dump(mode="json")
            row.finished_at = dt.datetime.now(dt.UTC)
    storage.remove(data_dir, user_id, import_id)
