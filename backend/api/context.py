"""What one running app holds: settings, database, and the long-lived helpers built on them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from backend.analytics.service import refresh_ended_runs
from backend.attachments.service import sweep as sweep_attachments
from backend.auth.security import PasswordHasher, TokenCodec
from backend.auth.throttle import (
    DatabaseStore,
    Limits,
    LoginThrottle,
    MemoryStore,
    RateLimit,
)
from backend.config import Settings
from backend.db.engine import Database
from backend.file_modes import private_data_dir
from backend.imports.service import sweep as sweep_imports
from backend.ingest.derivations import Derivation, WorkerConfig
from backend.ingest.service import IngestService
from backend.observability.metrics import Metrics
from backend.stream.broker import Broker
from backend.stream.pg_broker import PgBroker
from backend.trades.rebuild import prepare_rebuild
from backend.training.service import training_service
from backend.webhooks.causes import runs_ended
from backend.webhooks.service import webhook_sender

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    tokens: TokenCodec
    login_throttle: LoginThrottle
    registrations: RateLimit
    ingest: IngestService
    broker: Broker
    extras: dict[str, object] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        private_data_dir(settings.data_dir)
        db = Database(
            settings.resolved_database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            max_page_count=settings.sqlite_max_page_count,
        )
        # Several processes share one PostgreSQL: live updates travel by LISTEN/NOTIFY.
        broker = Broker() if db.is_sqlite else PgBroker(settings.resolved_database_url)
        config = WorkerConfig(
            settings.resolved_database_url,
            settings.sqlite_busy_timeout_ms,
            settings.sqlite_max_page_count,
        )
        return cls(
            settings=settings,
            db=db,
            hasher=PasswordHasher(rounds=settings.bcrypt_rounds),
            tokens=TokenCodec(
                key=settings.signing_key(),
                lifetime=dt.timedelta(minutes=settings.access_token_minutes),
            ),
            login_throttle=login_throttle(settings, db),
            registrations=RateLimit(settings.registrations_per_hour, 3600),
            ingest=IngestService(
                db,
                broker,
                config if settings.derivation_process else None,
                writer=config if settings.writer_process else None,
            ),
            broker=broker,
        )

    def start(self) -> None:
        derivations = self.ingest.derivations
        if prepare_rebuild not in derivations.preparers:
            derivations.preparers.insert(0, prepare_rebuild)
            derivations.listeners.append(self._refresh_metrics)
            derivations.timers.append(self.metrics.rebuild_seconds.observe)
            derivations.failure_counters.append(self.metrics.derivation_failures.inc)
            self.metrics.watch(self.db, self.broker.client_count)
        if isinstance(self.broker, PgBroker):
            self.broker.start()
        self.ingest.start()
        training_service(self).start()
        webhook_sender(self).start()
        try:  # the files of attachment rows that went while the service was down
            sweep_attachments(self.db, self.settings.data_dir)
        except Exception:  # the service serves without it; the next delete sweeps again
            log.exception("attachments: the sweep at start failed")
        try:  # imports a stopped server left running, expired staged uploads
            sweep_imports(self.db, self.settings.data_dir)
        except Exception:
            log.exception("imports: the sweep at start failed")

    def _refresh_metrics(self, done: list[Derivation]) -> None:
        """Final metrics when a run ends, and again whenever an ended run's trades change."""
        touched = {d.run_id for d in done} | self.ingest.take_ended_runs()
        if not touched:
            return
        try:
            with self.db.session(write=True) as session:
                ended = refresh_ended_runs(session, sorted(touched))
                runs_ended(session, ended)  # run.ended webhooks, once per end
        except Exception:
            self.ingest.requeue_runs(touched)  # e.g. ingest held the lock: next round
            raise
        for user_id, run_id in ended:
            self.broker.publish(user_id, {"type": "metrics_updated", "run_id": run_id})
        training_service(self).runs_ended(ended)

    def stop(self) -> None:
        webhook_sender(self).stop()
        training_service(self).stop()
        backtests = self.extras.get("backtests")  # created on first use, if ever
        if backtests is not None:
            backtests.stop()  # type: ignore[attr-defined]
        self.ingest.stop()
        if isinstance(self.broker, PgBroker):
            self.broker.stop()
        self.db.dispose()


def login_throttle(settings: Settings, db: Database) -> LoginThrottle:
    """In memory on SQLite (one API process); in the database on PostgreSQL, where every
    worker process shares it."""
    limits = Limits(per_user_address=settings.login_max_failures)
    window = settings.login_window_seconds
    if db.is_sqlite:
        return LoginThrottle(MemoryStore(), window, limits)
    return LoginThrottle(DatabaseStore(db, window), window, limits, clock=time.time)
