"""The durable on-disk spool: a SQLite file every event is written to before it is sent.

Durability. The file is in WAL mode with `synchronous=NORMAL`: each write is a
committed transaction appended to the WAL with `write()` before the call returns,
so it survives the process being killed (SIGKILL, a crash, an exception) because
the operating system already holds the bytes; SQLite skips the `fsync`, so a power
loss or kernel panic can lose the last transactions. `fsync=True` selects
`synchronous=FULL` (an `fsync` per commit, survives power loss, several times slower).

Layout: `stream` holds one row per (source, run key) with the run header to send,
`event` the pending events as encoded JSON in arrival order (`seq`), `rejected` the
events the service refused (kept for `fillbook-export status`; never resent).
`event` has no secondary index and the file uses 1 KiB pages: a commit then writes
one small page to the WAL, which made a call's commit about 40 % cheaper (a spool
rarely holds more than one stream, so reading by `seq` order loses nothing).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS stream (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    run_key TEXT NOT NULL,
    run_json BLOB NOT NULL,
    UNIQUE (source, run_key)
);
CREATE TABLE IF NOT EXISTS event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL REFERENCES stream (id),
    at REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    event_id TEXT,
    error TEXT NOT NULL,
    body BLOB NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Batch:
    """Pending events of one stream, oldest first, as they will be sent."""

    stream_id: int
    source: str
    run: dict[str, object]
    first_seq: int
    last_seq: int
    first_at: float
    bodies: list[bytes]


@dataclass(frozen=True)
class StreamStatus:
    source: str
    run_key: str
    pending: int
    oldest_at: float | None
    rejected: int


def connect(path: Path, *, fsync: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with the spool's pragmas."""
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=30.0
    )
    # Small pages: a commit appends whole pages to the WAL, and an event is ~200 bytes.
    connection.execute("PRAGMA page_size=1024")  # takes effect when the file is created
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
    return connection


class Spool:
    """One spool file. Thread-safe: writers and the sender each use their own connection."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._write = connect(self.path, fsync=fsync)
        self._write.executescript(SCHEMA)
        self._write_lock = threading.Lock()
        self._read = connect(self.path, fsync=fsync)
        self._read_lock = threading.Lock()

    # -- writing (the caller's side) --------------------------------------------------------

    def open_stream(self, source: str, run: Mapping[str, object]) -> int:
        """The stream id of (source, run key); the run header is stored (latest wins)."""
        run_json = orjson.dumps(dict(run))
        with self._write_lock:
            self._write.execute(
                "INSERT INTO stream (source, run_key, run_json) VALUES (?, ?, ?) "
                "ON CONFLICT (source, run_key) DO UPDATE SET run_json = excluded.run_json",
                (source, str(run["key"]), run_json),
            )
            row = self._write.execute(
                "SELECT id FROM stream WHERE source = ? AND run_key = ?",
                (source, str(run["key"])),
            ).fetchone()
        return int(row[0])

    def append(self, stream_id: int, body: bytes) -> None:
        """Commit one encoded event; it is on disk (see module docstring) when this returns."""
        with self._write_lock:
            self._write.execute(
                "INSERT INTO event (stream_id, at, body) VALUES (?, ?, ?)",
                (stream_id, time.time(), body),
            )

    def append_many(self, stream_id: int, bodies: Iterable[bytes]) -> int:
        """Commit many encoded events in one transaction; returns how many."""
        now = time.time()
        rows = [(stream_id, now, body) for body in bodies]
        with self._write_lock:
            self._write.execute("BEGIN IMMEDIATE")
            try:
                self._write.executemany(
                    "INSERT INTO event (stream_id, at, body) VALUES (?, ?, ?)", rows
                )
            except BaseException:
                self._write.execute("ROLLBACK")
                raise
            self._write.execute("COMMIT")
        return len(rows)

    # -- reading and acknowledging (the sender's side) --------------------------------------

    def next_batch(self, limit: int, max_bytes: int) -> Batch | None:
        """The oldest pending stream's first events: at most `limit` and about `max_bytes`."""
        with self._read_lock:
            head = self._read.execute(
                "SELECT e.stream_id, s.source, s.run_json FROM event e "
                "JOIN stream s ON s.id = e.stream_id ORDER BY e.seq LIMIT 1"
            ).fetchone()
            if head is None:
                return None
            stream_id, source, run_json = head
            rows = self._read.execute(
                "SELECT seq, at, body FROM event WHERE stream_id = ? ORDER BY seq LIMIT ?",
                (stream_id, limit),
            ).fetchall()
        bodies: list[bytes] = []
        size = 0
        last_seq = rows[0][0]
        for seq, _at, body in rows:
            if bodies and size + len(body) + 1 > max_bytes:
                break
            bodies.append(body)
            size += len(body) + 1
            last_seq = seq
        return Batch(
            stream_id=int(stream_id),
            source=str(source),
            run=orjson.loads(run_json),
            first_seq=int(rows[0][0]),
            last_seq=int(last_seq),
            first_at=float(rows[0][1]),
            bodies=bodies,
        )

    def acknowledge(
        self, batch: Batch, rejected: Sequence[tuple[int, str | None, str]] = ()
    ) -> None:
        """Delete the batch's events (the service stored or refused them), keeping refusals."""
        now = time.time()
        with self._write_lock:
            self._write.execute("BEGIN IMMEDIATE")
            try:
                self._write.executemany(
                    "INSERT INTO rejected (stream_id, event_id, error, body, at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (batch.stream_id, event_id, error, batch.bodies[index], now)
                        for index, event_id, error in rejected
                        if 0 <= index < len(batch.bodies)
                    ],
                )
                self._write.execute(
                    "DELETE FROM event WHERE stream_id = ? AND seq BETWEEN ? AND ?",
                    (batch.stream_id, batch.first_seq, batch.last_seq),
                )
            except BaseException:
                self._write.execute("ROLLBACK")
                raise
            self._write.execute("COMMIT")

    def pending(self) -> int:
        with self._read_lock:
            return int(self._read.execute("SELECT COUNT(*) FROM event").fetchone()[0])

    def status(self) -> list[StreamStatus]:
        """Per stream: pending events, the oldest one's time, events the service refused."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT s.source, s.run_key, "
                "(SELECT COUNT(*) FROM event e WHERE e.stream_id = s.id), "
                "(SELECT MIN(at) FROM event e WHERE e.stream_id = s.id), "
                "(SELECT COUNT(*) FROM rejected r WHERE r.stream_id = s.id) "
                "FROM stream s ORDER BY s.id"
            ).fetchall()
        return [
            StreamStatus(str(source), str(key), int(pending), oldest, int(rejected))
            for source, key, pending, oldest, rejected in rows
        ]

    def rejected_events(self, limit: int = 20) -> list[tuple[str, str, str | None, str]]:
        """The latest refusals: (source, run key, event id, error)."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT s.source, s.run_key, r.event_id, r.error FROM rejected r "
                "JOIN stream s ON s.id = r.stream_id ORDER BY r.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(a), str(b), c, str(d)) for a, b, c, d in rows]

    def close(self) -> None:
        with self._write_lock:
            self._write.close()
        with self._read_lock:
            self._read.close()
