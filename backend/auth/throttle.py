"""Failed-login back-off and the registration rate limit.

A hard lock after N failures lets anyone lock a user out with N wrong
passwords. Instead, failures are counted under three keys, each with a number
of free failures after which every further failure makes that key wait twice
as long as the last (1 s, 2 s, 4 s ... up to a cap):

- username and client address: a person mistyping, or one attacker on one user;
- client address: one address trying many usernames (credential stuffing);
- username: many addresses on one user. Its threshold is far higher, so an
  attacker cannot make the real user wait long, and the user's own success
  clears it.

A key is forgotten `window_seconds` after its last failure. The store holds at
most `max_keys` keys in process memory (the oldest go first), or sits in the
`login_throttle` table on PostgreSQL, shared by every worker process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text

from backend.db.engine import Database

USERNAME_KEY_CHARS = 64  # usernames are at most 64 characters (backend/auth/schemas.py)


@dataclass
class Record:
    failures: int
    last_failure: float  # seconds on the throttle's clock
    blocked_until: float


class ThrottleStore(Protocol):
    def get(self, keys: list[str]) -> dict[str, Record]: ...
    def put(self, key: str, record: Record) -> None: ...
    def drop(self, keys: list[str]) -> None: ...


class MemoryStore:
    """At most `max_keys` records, least recently failed dropped first."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._records: OrderedDict[str, Record] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, keys: list[str]) -> dict[str, Record]:
        with self._lock:
            return {key: self._records[key] for key in keys if key in self._records}

    def put(self, key: str, record: Record) -> None:
        with self._lock:
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)

    def drop(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)


class DatabaseStore:
    """The `login_throttle` table: one throttle for every process of a PostgreSQL deployment.
    Times are wall-clock epoch seconds here, so the throttle's clock must be `time.time`."""

    def __init__(self, db: Database, window_seconds: float) -> None:
        self.db = db
        self.window = window_seconds

    def get(self, keys: list[str]) -> dict[str, Record]:
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT key, failures, last_failure, blocked_until FROM login_throttle "
                     "WHERE key = ANY(:keys)"),
                {"keys": keys},
            ).all()  # fmt: skip
        return {row[0]: Record(int(row[1]), float(row[2]), float(row[3])) for row in rows}

    def put(self, key: str, record: Record) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO login_throttle (key, failures, last_failure, blocked_until) "
                    "VALUES (:key, :failures, :last, :blocked) ON CONFLICT (key) DO UPDATE SET "
                    "failures = excluded.failures, last_failure = excluded.last_failure, "
                    "blocked_until = excluded.blocked_until"
                ),
                {"key": key, "failures": record.failures, "last": record.last_failure,
                 "blocked": record.blocked_until},
            )  # fmt: skip
            # Bounded: records past the window are gone for good.
            connection.execute(
                text("DELETE FROM login_throttle WHERE last_failure < :horizon"),
                {"horizon": record.last_failure - self.window},
            )

    def drop(self, keys: list[str]) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(text("DELETE FROM login_throttle WHERE key = ANY(:keys)"),
                               {"keys": keys})  # fmt: skip


@dataclass(frozen=True)
class Limits:
    per_user_address: int = 5  # free failures of one username from one address
    per_address: int = 20  # of any usernames from one address
    per_user: int = 50  # of one username from any addresses
    base_seconds: float = 1.0
    max_seconds: float = 300.0
    max_user_seconds: float = 60.0  # what many addresses can make the real user wait, at most


class LoginThrottle:
    def __init__(
        self,
        store: ThrottleStore,
        window_seconds: float,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.window = window_seconds
        self.limits = limits or Limits()
        self._clock = clock
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> dict[str, tuple[int, float]]:
        user = username.lower()[:USERNAME_KEY_CHARS]
        limits = self.limits
        return {
            f"ua:{user}\x1f{address}": (limits.per_user_address, limits.max_seconds),
            f"a:{address}": (limits.per_address, limits.max_seconds),
            f"u:{user}": (limits.per_user, limits.max_user_seconds),
        }

    def retry_after(self, username: str, address: str) -> int:
        """0 when a login may be tried now, else the whole seconds to wait."""
        now = self._clock()
        records = self.store.get(list(self._keys(username, address)))
        wait = max((r.blocked_until - now for r in records.values()
                    if now - r.last_failure < self.window), default=0.0)  # fmt: skip
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def record_failure(self, username: str, address: str) -> None:
        now = self._clock()
        keys = self._keys(username, address)
        with self._lock:
            records = self.store.get(list(keys))
            for key, (free, cap) in keys.items():
                old = records.get(key)
                failures = 1 if old is None or now - old.last_failure >= self.window else (
                    old.failures + 1)  # fmt: skip
                blocked = now
                if failures > free:
                    blocked = now + min(self.limits.base_seconds * 2 ** (failures - free - 1), cap)
                self.store.put(key, Record(failures, now, blocked))

    def record_success(self, username: str, address: str) -> None:
        """The user's own keys are cleared; the address's is not (an attacker's own account
        must not reset the count of everything tried from there)."""
        keys = [key for key in self._keys(username, address) if not key.startswith("a:")]
        self.store.drop(keys)


class RateLimit:
    """At most `limit` events per key within `window_seconds` (sliding), in memory, bounded."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Count one event for `key`; 0 when allowed, else the whole seconds to wait."""
        now = self._clock()
        with self._lock:
            events = [t for t in self._events.pop(key, []) if now - t < self.window]
            if len(events) >= self.limit:
                self._events[key] = events
                return max(1, math.ceil(events[0] + self.window - now))
            events.append(now)
            self._events[key] = events
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        return 0
