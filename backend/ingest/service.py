"""The ingest pipeline of one process: read, validate, hand to the writer, trigger what follows."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import multiprocessing
import threading
import time
from collections import defaultdict
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from backend.db.engine import Database
from backend.errors import PayloadTooLarge
from backend.ingest.batch import StoredBatch
from backend.ingest.decode import media_type, prepare_batch
from backend.ingest.derivations import Derivation, DerivationRunner, WorkerConfig
from backend.ingest.progress import DerivationState, Position, derivation_state
from backend.ingest.schemas import MAX_BODY_BYTES
from backend.ingest.timestamps import format_ts
from backend.ingest.writer import IngestWriter
from backend.ingest.writer_process import WriterLink
from backend.stream.broker import Broker

log = logging.getLogger(__name__)

_WAIT_POLL_SECONDS = 0.02  # how often `?wait=derived` looks again


class IngestService:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        worker: WorkerConfig | None = None,
        *,
        writer: WorkerConfig | None = None,
    ) -> None:
        """`worker`: derive in a worker process of its own (else in a thread of this one);
        `writer`: store batches in a process of its own (SQLite; else in a thread)."""
        self.broker = broker
        self.db = db
        busy_flag = None if worker is None else multiprocessing.get_context("spawn").RawValue("b")
        self.writer: IngestWriter | WriterLink = (
            WriterLink(writer, on_commit=self._committed, busy_flag=busy_flag)
            if writer is not None and db.is_sqlite
            else IngestWriter(db, on_commit=self._committed, busy_flag=busy_flag)
        )
        if worker is not None and isinstance(self.writer, WriterLink):
            worker = dataclasses.replace(worker, wal_autocheckpoint=False)  # it checkpoints
        self.derivations = DerivationRunner(
            db, yield_to=self.writer.has_work, worker=worker, busy_flag=busy_flag
        )
        self.derivations.listeners.append(self._derived)
        # Bumped whenever a user's bars of a symbol change; keys of the aggregated-bars cache.
        self._bar_versions: dict[tuple[int, str], int] = defaultdict(int)
        self._ended_runs: set[int] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.derivations.start()
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()
        self.derivations.stop()

    def bar_version(self, user_id: int, symbol: str) -> int:
        with self._lock:
            return self._bar_versions[(user_id, symbol)]

    async def ingest(
        self, request: Request, user_id: int, *, wait_derived: float | None = None
    ) -> dict[str, Any]:
        """Store a batch; with `wait_derived` (seconds), answer only once the positions it
        touched are rebuilt, or failed, or that many seconds have passed (then `pending`)."""
        kind = media_type(request.headers.get("content-type"))
        body = await read_body(request, MAX_BODY_BYTES)
        batch = prepare_batch(body, kind, user_id)
        stored = await self.writer.submit(batch)
        response = stored.response()
        if wait_derived is not None:
            state = await self.wait_derived(stored, wait_derived)
            response["derivation"] = state.model_dump(mode="json")
        return response

    async def wait_derived(self, stored: StoredBatch, seconds: float) -> DerivationState:
        """Like Elasticsearch's `refresh=wait_for`: poll the touched positions' state until
        none is due for a rebuild (each derived, or failed and backing off) or time is up."""
        keys = [(key.run_id, key.account, key.symbol) for key in stored.positions]
        deadline = time.monotonic() + seconds
        while True:
            state, waiting = await run_in_threadpool(self._positions_state, stored.user_id, keys)
            left = deadline - time.monotonic()
            if not waiting or left <= 0:
                return state
            await asyncio.sleep(min(_WAIT_POLL_SECONDS, left))

    def _positions_state(self, user_id: int, keys: list[Position]) -> tuple[DerivationState, bool]:
        """The state of `keys`, and whether any of them is still to be (re)tried."""
        now = dt.datetime.now(dt.UTC)
        with self.db.session() as session:
            state = derivation_state(session, user_id, positions=keys)
        backing_off = sum(1 for f in state.failed_positions if f.retry_at and f.retry_at > now)
        return state, state.pending_positions + len(state.failed_positions) > backing_off

    def _committed(self, stored: list[StoredBatch]) -> None:
        """After a commit: invalidate bar caches, wake the derivations, tell live clients."""
        with self._lock:
            for batch in stored:
                for symbol in batch.bar_symbols:
                    self._bar_versions[(batch.user_id, symbol)] += 1
                if batch.run_ended:
                    self._ended_runs.add(batch.run_id)
        if any(batch.positions or batch.run_ended for batch in stored):
            self.derivations.notify()
        for batch in stored:
            if batch.accepted:
                self.broker.publish(batch.user_id, batch.notification())

    def take_ended_runs(self) -> set[int]:
        """Runs whose `run_end` was committed since the last call."""
        with self._lock:
            ended, self._ended_runs = self._ended_runs, set()
        return ended

    def requeue_runs(self, run_ids: set[int]) -> None:
        """Hand runs back to the next `take_ended_runs` (their refresh failed) and wake the
        runner, so a failed write delays final metrics but never loses them."""
        with self._lock:
            self._ended_runs |= run_ids
        self.derivations.notify()

    def _derived(self, done: list[Derivation]) -> None:
        for derivation in done:
            self.broker.publish(
                derivation.user_id,
                {
                    "type": "position_derived",
                    "run_id": derivation.run_id,
                    "account": derivation.account,
                    "symbol": derivation.symbol,
                    "from_ts": format_ts(derivation.from_ts),
                },
            )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; a batch may be at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes, the most a batch may be")
        chunks.append(chunk)
    return b"".join(chunks)
