"""Live updates across processes and hosts: PostgreSQL LISTEN/NOTIFY, no extra broker.

With several workers (or hosts) on one PostgreSQL database, the process that
commits a batch is rarely the one holding the user's WebSocket. Each process
publishes with `pg_notify` and listens on the same channel with a connection of
its own; whatever arrives is fanned out to this process's clients by the
in-process `Broker`. A message is small (a NOTIFY payload may be 8,000 bytes);
one that is not, or that cannot be published, still reaches this process's
clients, and the dashboard refetches on its next message anyway.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

from backend.stream.broker import Broker

log = logging.getLogger(__name__)

CHANNEL = "fillbook_stream"
MAX_PAYLOAD = 7900


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg wants it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False
    )


class PgBroker(Broker):
    def __init__(self, database_url: str, *, reconnect_seconds: float = 1.0) -> None:
        super().__init__()
        self.conninfo = libpq_url(database_url)
        self.reconnect_seconds = reconnect_seconds
        self.listening = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._publisher: psycopg.Connection[Any] | None = None
        self._publish_lock = threading.Lock()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._listen, name="pg-listen", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._publish_lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None

    def publish(self, user_id: int, message: dict[str, Any]) -> None:
        """Send to every process's clients of `user_id` (this one's included, via the channel)."""
        payload = orjson.dumps({"u": user_id, "m": message}).decode()
        if len(payload) > MAX_PAYLOAD or not self.listening.is_set():
            self.deliver(user_id, message)
            return
        try:
            with self._publish_lock:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = psycopg.connect(self.conninfo, autocommit=True)
                self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        except psycopg.Error:
            log.warning("pg_notify failed; only this process's clients hear it", exc_info=True)
            with self._publish_lock:
                self._publisher = None
            self.deliver(user_id, message)

    def deliver(self, user_id: int, message: dict[str, Any]) -> None:
        """Hand a message to this process's clients."""
        super().publish(user_id, message)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stopping.is_set():
                        for notify in connection.notifies(timeout=0.5):
                            self._received(notify.payload)
            except psycopg.Error:
                log.warning("listening for live updates failed; reconnecting", exc_info=True)
            self.listening.clear()
            self._stopping.wait(self.reconnect_seconds)

    def _received(self, payload: str) -> None:
        try:
            document = orjson.loads(payload)
            self.deliver(int(document["u"]), document["m"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed live update: %.200s", payload)
