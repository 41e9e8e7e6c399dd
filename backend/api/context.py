"""What one running app holds: settings, database, and the long-lived helpers built on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from backend.auth.security import PasswordHasher, TokenCodec
from backend.auth.throttle import LoginThrottle
from backend.config import Settings
from backend.db.engine import Database
from backend.ingest.service import IngestService
from backend.stream.broker import Broker
from backend.trades.rebuild import rebuild_position


@dataclass
class AppContext:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    tokens: TokenCodec
    login_throttle: LoginThrottle
    ingest: IngestService
    broker: Broker
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        db = Database(
            settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        broker = Broker()
        return cls(
            settings=settings,
            db=db,
            hasher=PasswordHasher(rounds=settings.bcrypt_rounds),
            tokens=TokenCodec(
                key=settings.signing_key(),
                lifetime=dt.timedelta(minutes=settings.access_token_minutes),
            ),
            login_throttle=LoginThrottle(
                settings.login_max_failures, settings.login_window_seconds
            ),
            ingest=IngestService(db, broker),
            broker=broker,
        )

    def start(self) -> None:
        if rebuild_position not in self.ingest.derivations.derivers:
            self.ingest.derivations.derivers.insert(0, rebuild_position)
        self.ingest.start()

    def stop(self) -> None:
        self.ingest.stop()
        self.db.dispose()
