"""The background sender: spool → `POST /api/ingest` → delete what the service acknowledged.

Rules (docs/exporters.md):
- a batch goes out when `batch_size` events wait, when the oldest waits
  `max_batch_age` seconds, or when `flush()`/`close()` asks;
- `200`: every event of the batch was stored, was a duplicate or was refused; the
  refused ones go to `on_rejected` and the log; the batch leaves the spool;
- network errors, `408`, `429` and `5xx`: the same batch again after a capped
  exponential back-off with jitter, or after `Retry-After` when the service says;
- any other status (`400`, `401`, `403`, `404`, `413`, `415`, `422`, ...) is an envelope
  error that resending cannot fix: the sender stops, keeps the batch in the spool and
  reports the reason through `Exporter.error` and `flush()`.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgpack
import orjson

from fillbook_exporter.spool import Batch, Spool

log = logging.getLogger("fillbook_exporter")

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 15 * 1024 * 1024  # the contract allows 16 MiB; leave room for the header
RETRY_STATUSES = frozenset({408, 429})


class ExporterError(Exception):
    """The service refused a batch in a way resending cannot fix; the sender stopped."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"ingest refused the batch with {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class RejectedEvent:
    """An event the service refused (kept in its dead-letter table and the spool's `rejected`)."""

    source: str
    run_key: str
    index: int
    id: str | None
    error: str
    event: dict[str, Any]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential back-off with jitter.

    Attempt n (from 0) waits a uniform time in [d/2, d] with d = min(cap, base * 2**n).
    """

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 62))
        return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def encode(batch: Batch, fmt: str) -> bytes:
    """The request body: JSON by splicing the stored event bytes, or MessagePack."""
    if fmt == "json":
        header = orjson.dumps({"source": batch.source, "run": batch.run})
        return b"".join((header[:-1], b',"events":[', b",".join(batch.bodies), b"]}"))
    document = {
        "source": batch.source,
        "run": batch.run,
        "events": [orjson.loads(body) for body in batch.bodies],
    }
    return msgpack.packb(document)


class Sender(threading.Thread):
    """Drains a spool in the background; see the module docstring for the rules."""

    def __init__(
        self,
        spool: Spool,
        *,
        base_url: str,
        api_key: str,
        fmt: str,
        batch_size: int,
        max_batch_age: float,
        backoff: Backoff,
        on_rejected: Callable[[RejectedEvent], None] | None,
        timeout: float,
    ) -> None:
        super().__init__(name="fillbook-exporter-sender", daemon=True)
        self.spool = spool
        self.fmt = fmt
        self.batch_size = batch_size
        self.max_batch_age = max_batch_age
        self.backoff = backoff
        self.on_rejected = on_rejected
        self.error: ExporterError | None = None
        self.stats = {"batches": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "retries": 0}
        self.last_delays: list[float] = []  # waits of the latest retried batch (diagnostics)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json" if fmt == "json" else "application/msgpack",
            },
            timeout=timeout,
        )
        self._rng = random.Random()
        self.idle = False  # True while waiting for events on an empty spool
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._requests = 0  # drain() calls so far
        self._empty_upto = 0  # the latest request a pass that found the spool empty began after
        self._urgent = 0  # > 0 while flush() or close() wait: send partial batches at once

    # -- called from other threads ----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def drain(self, timeout: float | None) -> bool:
        """Send everything pending now; True once the spool is empty (False on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            self._urgent += 1
            self._requests += 1
            request = self._requests
        try:
            self._wake.set()
            with self._idle:
                while self._empty_upto < request and self.error is None and self.is_alive():
                    remaining = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
                    if remaining <= 0:
                        return False
                    self._idle.wait(remaining)
                return self._empty_upto >= request
        finally:
            with self._idle:
                self._urgent -= 1

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout)
        self._http.close()

    # -- the thread -------------------------------------------------------------------------

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before reading: a wake from here on ends the next wait
            with self._idle:
                request = self._requests
                urgent = self._urgent > 0
            try:
                self.spool.absorb()
                batch = self.spool.next_batch(self.batch_size, MAX_BATCH_BYTES)
            except Exception:  # the spool file vanished or is locked for long: retry
                log.exception("reading the spool failed; retrying")
                self._stopping.wait(1.0)
                continue
            if batch is None:
                with self._idle:
                    self._empty_upto = request
                    self._idle.notify_all()
                self.idle = True  # the next append wakes us (Exporter._appended); the
                self._wake.wait(self.max_batch_age)  # timeout covers an append that raced us
                self.idle = False
                continue
            if len(batch.bodies) < self.batch_size and not urgent:
                wait = batch.first_at + self.max_batch_age - time.time()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
            try:
                if not self._send(batch):
                    return
            except Exception:  # a bug or a broken spool must not end the thread silently
                log.exception("sending a batch failed; trying again in 1 s")
                self._stopping.wait(1.0)
        with self._idle:
            self._idle.notify_all()

    def _send(self, batch: Batch) -> bool:
        """Post until the service answers for the batch; False when the sender must stop."""
        body = encode(batch, self.fmt)
        attempt = 0
        self.last_delays = []
        while not self._stopping.is_set():
            delay: float | None
            try:
                response = self._http.post("/api/ingest", content=body)
            except httpx.TransportError as exc:
                reason, delay = f"{type(exc).__name__}: {exc}", None
            else:
                status = response.status_code
                if status == 200:
                    try:
                        result = response.json()
                    except ValueError:  # not the service (a proxy?): stored or not, resend
                        result = None
                    if isinstance(result, dict) and "accepted" in result:
                        self._acknowledge(batch, result)
                        return True
                    reason, delay = f"200 without an ingest result: {response.text[:200]!r}", None
                elif status not in RETRY_STATUSES and status < 500:
                    self._fail(ExporterError(status, _detail(response)))
                    return False
                else:
                    reason = f"{status}: {_detail(response)}"
                    delay = retry_after(response.headers.get("Retry-After"))
            if delay is None:
                delay = self.backoff.delay(attempt, self._rng)
            attempt += 1
            self.stats["retries"] += 1
            self.last_delays.append(delay)
            log.warning("ingest failed (%s); batch of %d again in %.2f s",
                        reason, len(batch.bodies), delay)
            self._stopping.wait(delay)
        return False

    def _acknowledge(self, batch: Batch, result: dict[str, Any]) -> None:
        rejected = [
            (int(item["index"]), item.get("id"), str(item["error"]))
            for item in result.get("rejected", [])
        ]
        self.spool.acknowledge(batch, rejected)
        self.stats["batches"] += 1
        self.stats["accepted"] += int(result.get("accepted", 0))
        self.stats["duplicates"] += int(result.get("duplicates", 0))
        self.stats["rejected"] += len(rejected)
        for index, event_id, error in rejected:
            event = orjson.loads(batch.bodies[index]) if 0 <= index < len(batch.bodies) else {}
            log.warning("ingest rejected event %s (%s/%s): %s",
                        event_id, batch.source, batch.run.get("key"), error)
            if self.on_rejected is not None:
                rejection = RejectedEvent(
                    batch.source, str(batch.run.get("key")), index, event_id, error, event
                )
                try:
                    self.on_rejected(rejection)
                except Exception:
                    log.exception("the on_rejected callback raised")

    def _fail(self, error: ExporterError) -> None:
        log.error("exporter stopped: %s; the batch stays in the spool", error)
        self.error = error
        with self._idle:
            self._idle.notify_all()


def _detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(payload, dict):
        detail = payload.get("detail", payload.get("error", payload))
        return detail if isinstance(detail, str) else orjson.dumps(detail).decode()
    return str(payload)
