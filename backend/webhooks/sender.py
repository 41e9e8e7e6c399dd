"""The background sender: one thread per server process, sending committed deliveries.

Each round claims due deliveries with a lease (a conditional UPDATE, so that the API
processes sharing one PostgreSQL never send the same attempt twice), sends them a few at
a time, and records each outcome: success; a retry after exponential back-off with jitter;
or, once `WEBHOOK_MAX_ATTEMPTS` are spent, failure. `WEBHOOK_DISABLE_AFTER` deliveries in a
row that failed for good disable the endpoint (docs/webhooks.md says why deliveries and not
attempts). A process that dies mid-send leaves a lease that runs out, and the attempt is
made again: delivery is at least once, and receivers deduplicate on the delivery id.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, select, update

from backend.config import Settings
from backend.db.base import utcnow
from backend.db.engine import Database
from backend.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from backend.webhooks import outbox, signing
from backend.webhooks.addresses import Policy, RefusedAddress, Resolver, check, system_resolver
from backend.webhooks.secrets import SecretBox, SecretUnavailable
from backend.webhooks.transport import Outcome, post

log = logging.getLogger(__name__)
CLAIM_BATCH = 20
PARALLEL_SENDS = 4
PRUNE_EVERY_SECONDS = 3600.0


def backoff_seconds(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """The wait after the `attempts`-th failed attempt: "equal jitter" exponential back-off,
    `d / 2 + rand() * d / 2` with `d = min(cap, base * 2 ** (attempts - 1))`, so within
    [d / 2, d]: it grows, and retries of many deliveries failing together spread out."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    ceiling = min(cap, base * 2.0 ** min(attempts - 1, 60))
    return ceiling / 2 + rand() * ceiling / 2


def body_of(event: WebhookEvent) -> bytes:
    """The JSON a delivery carries: `{id, type, created_at, data}`."""
    return orjson.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        }
    )


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    public_id: str
    url: str
    sealed_secret: str
    event_type: str
    body: bytes


class WebhookSender:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        box: SecretBox,
        *,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.db = db
        self.settings = settings
        self.box = box
        self.resolve = resolve
        self.policy = Policy(
            settings.webhook_allow_private,
            frozenset(host.lower() for host in settings.webhook_allowed_hosts),
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_prune = 0.0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(PARALLEL_SENDS, thread_name_prefix="webhook-send")
        self._thread = threading.Thread(target=self._loop, name="webhook-sender", daemon=True)
        outbox.add_waker(self.wake)
        self._thread.start()

    def stop(self) -> None:
        outbox.remove_waker(self.wake)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.settings.webhook_timeout_seconds + 5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self.run_once()
                self._maybe_prune()
            except Exception:  # the database was busy or away: the next round tries again
                log.exception("webhooks: a sending round failed")
                sent = 0
            if sent < CLAIM_BATCH:  # a full batch: more may be due at once
                self._wake.wait(self.settings.webhook_poll_seconds)

    # -- one round --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim the deliveries due now, send them and record the outcomes; how many."""
        jobs = self._claim()
        if not jobs:
            return 0
        if self._pool is None:
            for job in jobs:
                self._send(job)
        else:
            for future in [self._pool.submit(self._send, job) for job in jobs]:
                future.result()
        return len(jobs)

    def _claim(self) -> list[_Job]:
        now = utcnow()
        lease = now + dt.timedelta(seconds=self.settings.webhook_timeout_seconds + 60)
        free = (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until < now)
        # Looked for in a read transaction: an idle poll never takes SQLite's write lock.
        with self.db.session() as session:
            due = (
                session.execute(
                    select(WebhookDelivery.id)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                        free,
                        WebhookEndpoint.enabled.is_(True),
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(CLAIM_BATCH)
                )
                .scalars()
                .all()
            )
        if not due:
            return []
        with self.db.session(write=True) as session:
            jobs = []
            for delivery_id in due:
                claimed = session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, free)
                    .values(lease_until=lease)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process's sender took it
                delivery, event, endpoint = session.execute(
                    select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
                    .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.id == delivery_id)
                ).one()
                jobs.append(
                    _Job(
                        delivery.id,
                        delivery.public_id,
                        endpoint.url,
                        endpoint.secret_sealed,
                        event.type,
                        body_of(event),
                    )  # fmt: skip
                )
        return jobs

    def _send(self, job: _Job) -> None:
        try:
            outcome = self._attempt(job)
        except Exception as exc:  # a bug must not leave the delivery leased for good
            log.exception("webhooks: delivery %s failed unexpectedly", job.public_id)
            outcome = Outcome(False, None, None, f"internal error: {type(exc).__name__}")
        self._record(job.delivery_id, outcome)

    def _attempt(self, job: _Job) -> Outcome:
        try:
            target = check(job.url, self.policy, self.resolve)  # again at each send: rebinding
            secret = self.box.open(job.sealed_secret)
        except (RefusedAddress, SecretUnavailable) as exc:
            return Outcome(False, None, None, str(exc))
        stamp = int(time.time())
        headers = signing.headers(secret, job.public_id, job.event_type, stamp, job.body)
        return post(target, job.body, headers, self.settings.webhook_timeout_seconds)

    def _record(self, delivery_id: int, outcome: Outcome) -> None:
        now = utcnow()
        settings = self.settings
        with self.db.session(write=True) as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:  # its endpoint was deleted meanwhile
                return
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            assert endpoint is not None
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.lease_until = None
            delivery.response_status = outcome.status
            delivery.response_excerpt = outcome.excerpt
            delivery.error = outcome.error
            if outcome.ok:
                delivery.status = "succeeded"
                delivery.completed_at = now
                delivery.next_attempt_at = None
                endpoint.consecutive_failures = 0
                return
            if delivery.attempts < settings.webhook_max_attempts:
                wait = backoff_seconds(
                    delivery.attempts,
                    settings.webhook_retry_base_seconds,
                    settings.webhook_retry_cap_seconds,
                )
                delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
                return
            delivery.status = "failed"
            delivery.completed_at = now
            delivery.next_attempt_at = None
            endpoint.consecutive_failures += 1
            if endpoint.enabled and endpoint.consecutive_failures >= settings.webhook_disable_after:
                endpoint.enabled = False
                endpoint.disabled_at = now
                endpoint.updated_at = now
                endpoint.disabled_reason = (
                    f"disabled after {endpoint.consecutive_failures} deliveries in a row failed "
                    f"all {settings.webhook_max_attempts} attempts; last error: {outcome.error}"
                )[:1000]
                log.warning("webhooks: endpoint %s disabled", endpoint.id)

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        cutoff = utcnow() - dt.timedelta(days=self.settings.webhook_retention_days)
        with self.db.session(write=True) as session:
            old = select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff)
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
            session.execute(delete(WebhookEvent).where(WebhookEvent.created_at < cutoff))
