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

While a `flush(wait="derived")` waits, each batch goes out as
`POST /api/ingest?wait=derived&timeout=N` (N seconds: what is left of the flush, at
most 30) and its answer's `derivation` is handed to that flush (derivation.py). Runs
whose batches went out without waiting (or whose wait ended `pending`) are remembered,
so that the flush asks the service about them afterwards (`run_states`,
`GET /api/runs/{id}`).
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgpack
import orjson

from fillbook_exporter.derivation import WAIT_CAP_SECONDS, Derivation
from fillbook_exporter.spool import Batch, Spool

log = logging.getLogger("fillbook_exporter")

RunDerivation = tuple[int | None, Derivation]  # a batch's derivation state and its run id

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
        self.derivation: Derivation | None = None  # the latest derivation state answered
        self.timeout = timeout
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
        # flush(wait="derived") calls waiting now: their deadlines and collected answers.
        self._derive_waits: dict[int, tuple[float | None, list[RunDerivation]]] = {}
        # Runs with batches acknowledged without waiting for derivation: run id → count.
        self._unwaited: dict[int, int] = {}
        self._base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}"}

    # -- called from other threads ----------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def drain(
        self, timeout: float | None, derived: list[RunDerivation] | None = None
    ) -> bool:
        """Send everything pending now; True once the spool is empty (False on timeout).

        With a `derived` list, the batches sent meanwhile ask the service to answer
        once their trades are derived (bounded by what is left of `timeout`), and
        the derivation states they answer are appended to it with their run ids.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            self._urgent += 1
            self._requests += 1
            request = self._requests
            if derived is not None:
                self._derive_waits[request] = (deadline, derived)
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
                self._derive_waits.pop(request, None)

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
            wait = self._derive_wait()
            try:
                if wait is None:
                    response = self._http.post("/api/ingest", content=body)
                else:  # the service holds the answer up to `wait` s: give it that long too
                    response = self._http.post(
                        "/api/ingest", content=body,
                        params={"wait": "derived", "timeout": f"{wait:g}"},
                        timeout=httpx.Timeout(self.timeout + wait),
                    )
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
                        derivation = None if wait is None else self._derived(result)
                        if derivation is None or derivation.state == "pending":
                            self._unconfirmed(result.get("run_id"))
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

    def _derive_wait(self) -> float | None:
        """Seconds to ask the service to wait for derivation; None when no flush asks.

        What is left of the longest flush waiting (at least 0.1 s, the service wants
        more than 0), at most WAIT_CAP_SECONDS.
        """
        with self._idle:
            deadlines = [deadline for deadline, _ in self._derive_waits.values()]
        if not deadlines:
            return None
        now = time.monotonic()
        left = max(math.inf if d is None else d - now for d in deadlines)
        if left <= 0:
            return None
        return max(0.1, round(min(left, WAIT_CAP_SECONDS), 1))

    def run_states(self, deadline: float | None) -> dict[int, Derivation]:
        """The derivation state of each run whose batches went out without waiting
        (or whose wait ended `pending`).

        Asks `GET /api/runs/{id}` until the run is no longer `pending` or `deadline`
        (monotonic) passes; a run found derived or failed is forgotten, one still
        pending is asked about again by the next flush. A run that cannot be read is
        logged and left out.
        """
        with self._idle:
            runs = dict(self._unwaited)
        states: dict[int, Derivation] = {}
        if not runs:
            return states
        with httpx.Client(base_url=self._base_url, headers=self._auth,
                          timeout=self.timeout) as http:  # fmt: skip
            for run_id, count in runs.items():
                state = self._run_state(http, run_id, deadline)
                if state is None:
                    continue
                states[run_id] = state
                if state.state != "pending":
                    with self._idle:
                        if self._unwaited.get(run_id) == count:  # no new batch meanwhile
                            del self._unwaited[run_id]
        return states

    def _run_state(
        self, http: httpx.Client, run_id: int, deadline: float | None
    ) -> Derivation | None:
        pause = 0.02
        while True:
            try:
                response = http.get(f"/api/runs/{run_id}")
                response.raise_for_status()
                payload = response.json().get("derivation")
                state = Derivation.parse(payload if isinstance(payload, dict) else {})
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                log.warning("cannot read the derivation state of run %s: %s", run_id, exc)
                return None
            left = math.inf if deadline is None else deadline - time.monotonic()
            if state.state != "pending" or left <= 0:
                return state
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)

    def _derived(self, result: dict[str, Any]) -> Derivation | None:
        """Hand the answer's derivation state to the flushes waiting for it."""
        payload = result.get("derivation")
        if payload is None:
            log.warning("the service answered ?wait=derived without a derivation state; "
                        "it may predate wait=derived")
            return None
        try:
            derivation = Derivation.parse(payload if isinstance(payload, dict) else {})
        except ValueError as exc:
            log.warning("the service's derivation state cannot be read (%s): %r", exc, payload)
            return None
        self.derivation = derivation
        if derivation.state != "derived":
            log.warning("trades of the batch not derived yet: %s", derivation)
        run_id = result.get("run_id")
        with self._idle:
            for _, answers in self._derive_waits.values():
                answers.append((run_id if isinstance(run_id, int) else None, derivation))
        return derivation

    def _unconfirmed(self, run_id: object) -> None:
        """Remember a run whose batch is acknowledged but not known to be derived."""
        if isinstance(run_id, int):
            with self._idle:
                self._unwaited[run_id] = self._unwaited.get(run_id, 0) + 1

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
