"""The durable on-disk spool: SQLite, fed through an append-only intake journal.

Durability. An event is durable when the call that made it returns: its encoded
bytes are appended to the intake journal (`<spool>.intake`) with one `write()`
system call. That survives the process being killed (SIGKILL, a crash, an
exception), because the operating system already holds the bytes; without an
`fsync` a power loss or kernel panic can lose the last writes. `fsync=True` adds
an `fsync` per call (and `synchronous=FULL` in SQLite): survives power loss, much
slower. This is the same promise SQLite's WAL with `synchronous=NORMAL` gives per
commit, at a fraction of the cost: a `write()` costs ~2 µs, a SQLite commit per
event ~12-17 µs here (docs/benchmarks.md).

The sender thread moves the journal into SQLite (`absorb()`): the new records and
the journal offset they end at are committed in one transaction, so a crash
between the two neither loses nor doubles a record. When everything is absorbed
and the journal is large it is truncated (the offset reset after: a stored offset
past the journal's end means it was truncated, and reads as 0).
A journal record is `<u32 body length><u32 stream id><f64 time>` + body; a
record cut short by a crash (power loss only) is left unread.

Layout in SQLite (WAL, `synchronous=NORMAL`): `stream` holds one row per (source,
run key) with the run header to send, `event` the pending events as encoded JSON
in arrival order (`seq`), `rejected` the events the service refused (kept for
`fillbook-export status`; never resent), `meta` the journal offset.

Privacy. The spool holds a run's every order and fill: its files (the database, its
`-wal` and `-shm`, the journal) are created with mode 0600, and any folder the spool
creates for them with 0700. A spool file found with a looser mode is tightened when it
is opened, with a warning. A folder that already exists is left as it is: it may be the
caller's working directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import struct
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("fillbook_exporter")

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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('journal_offset', 0);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    event_id TEXT,
    error TEXT NOT NULL,
    body BLOB NOT NULL,
    at REAL NOT NULL
);
"""


RECORD = struct.Struct("<IId")  # body length, stream id, time.time() of the call
FILE_MODE = 0o600
DIR_MODE = 0o700
TRUNCATE_AT = 8 * 1024 * 1024  # bytes of fully absorbed journal before it is truncated
ABSORB_BYTES = 16 * 1024 * 1024  # journal read per absorb() (a long outage leaves gigabytes)


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
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
    return connection


class Spool:
    """One spool file. Thread-safe: writers and the sender each use their own connection."""

    def __init__(self, path: str | Path, *, fsync: bool = False, absorb: bool = True) -> None:
        """Open (or create) the spool; `absorb=False` only reads (`fillbook-export status`)."""
        self.path = Path(path).expanduser()
        make_private_dirs(self.path.parent)
        # Not "-journal": that is SQLite's rollback journal, which it would "recover".
        self.journal_path = self.path.with_name(self.path.name + ".intake")
        # SQLite gives the -wal and -shm files it creates the database file's mode.
        for suffix in ("", "-wal", "-shm"):
            make_private_file(Path(f"{self.path}{suffix}"), create=suffix == "")
        self._fsync = fsync
        self._absorbing = absorb
        self._write = connect(self.path, fsync=fsync)
        fresh = self._write.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone() is None
        self._write.executescript(SCHEMA)
        if fresh and absorb:
            self._set_aside_orphan_journal()
        self._write_lock = threading.Lock()
        self._read = connect(self.path, fsync=fsync)
        self._read_lock = threading.Lock()
        self._journal_lock = threading.Lock()
        make_private_file(self.journal_path, create=False)
        self._journal = os.open(
            self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE
        )
        self._offset = int(self._write.execute(
            "SELECT value FROM meta WHERE key = 'journal_offset'").fetchone()[0])
        if absorb:
            if self._offset > os.fstat(self._journal).st_size:  # truncated, offset not yet reset
                self._store_offset(0)
            self.absorb()  # what an earlier process left

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
        """Append one encoded event to the journal; durable (module docstring) on return."""
        self._write_journal(RECORD.pack(len(body), stream_id, time.time()) + body)

    def append_many(self, stream_id: int, bodies: Iterable[bytes]) -> int:
        """Append many encoded events with one `write()`; returns how many."""
        now = time.time()
        parts = [RECORD.pack(len(body), stream_id, now) + body for body in bodies]
        self._write_journal(b"".join(parts))
        return len(parts)

    def _write_journal(self, data: bytes) -> None:
        with self._journal_lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._journal, view) :]
            if self._fsync:
                os.fsync(self._journal)

    # -- the journal into SQLite (the sender's side) -----------------------------------------

    def absorb(self) -> int:
        """Move new journal records into `event` (one transaction); returns how many."""
        with self._write_lock:
            size = os.fstat(self._journal).st_size
            if size <= self._offset:
                return 0
            with open(self.journal_path, "rb") as journal:
                journal.seek(self._offset)
                data = journal.read(min(size - self._offset, ABSORB_BYTES))
            rows, used = parse_records(data)
            if not rows and size - self._offset > ABSORB_BYTES:  # one record bigger than that
                with open(self.journal_path, "rb") as journal:
                    journal.seek(self._offset)
                    rows, used = parse_records(journal.read(size - self._offset))
            if rows:
                end = self._offset + used
                self._write.execute("BEGIN IMMEDIATE")
                try:
                    self._write.executemany(
                        "INSERT INTO event (stream_id, at, body) VALUES (?, ?, ?)", rows
                    )
                    self._write.execute(
                        "UPDATE meta SET value = ? WHERE key = 'journal_offset'", (end,)
                    )
                except BaseException:
                    self._write.execute("ROLLBACK")
                    raise
                self._write.execute("COMMIT")
                self._offset = end
            if self._offset >= TRUNCATE_AT:
                self._truncate_if_absorbed()
            return len(rows)

    def _truncate_if_absorbed(self) -> None:
        with self._journal_lock:  # no append in between: the journal ends where we absorbed
            if os.fstat(self._journal).st_size == self._offset:
                os.ftruncate(self._journal, 0)
                self._store_offset(0)

    def _store_offset(self, offset: int) -> None:
        self._write.execute("UPDATE meta SET value = ? WHERE key = 'journal_offset'", (offset,))
        self._offset = offset

    def unabsorbed(self) -> int:
        """Events in the journal not yet moved into SQLite."""
        _rows, offset = self._snapshot("SELECT 1")
        return len(self._journal_tail(offset))

    def _journal_tail(self, offset: int) -> list[tuple[int, float, bytes]]:
        """The journal's records from `offset` (the start, if the journal was cut since)."""
        with open(self.journal_path, "rb") as journal:
            journal.seek(offset if offset <= os.fstat(journal.fileno()).st_size else 0)
            rows, _ = parse_records(journal.read())
        return rows

    def _snapshot(self, sql: str) -> tuple[list[Any], int]:
        """Rows of `sql` and the journal offset, read in one transaction.

        `absorb` moves records into `event` and advances the offset in one commit,
        so only a single snapshot counts each pending event exactly once: reading the
        two apart could miss a whole absorbed group (and `flush` return too early).
        """
        with self._read_lock:
            self._read.execute("BEGIN")
            try:
                rows = self._read.execute(sql).fetchall()
                offset = int(self._read.execute(
                    "SELECT value FROM meta WHERE key = 'journal_offset'").fetchone()[0])
            finally:
                self._read.execute("COMMIT")
        return rows, offset

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
        """Events not yet acknowledged: in SQLite and still in the journal."""
        rows, offset = self._snapshot("SELECT COUNT(*) FROM event")
        return int(rows[0][0]) + len(self._journal_tail(offset))

    def status(self) -> list[StreamStatus]:
        """Per stream: pending events, the oldest one's time, events the service refused."""
        rows, offset = self._snapshot(
            "SELECT s.id, s.source, s.run_key, "
            "(SELECT COUNT(*) FROM event e WHERE e.stream_id = s.id), "
            "(SELECT MIN(at) FROM event e WHERE e.stream_id = s.id), "
            "(SELECT COUNT(*) FROM rejected r WHERE r.stream_id = s.id) "
            "FROM stream s ORDER BY s.id"
        )
        in_journal: dict[int, list[float]] = {}
        for stream_id, at, _body in self._journal_tail(offset):
            in_journal.setdefault(stream_id, []).append(at)
        result = []
        for stream_id, source, key, pending, oldest, rejected in rows:
            times = in_journal.get(stream_id, [])
            if times:
                oldest = min([oldest, *times]) if oldest is not None else min(times)
            result.append(StreamStatus(
                str(source), str(key), int(pending) + len(times), oldest, int(rejected)
            ))
        return result

    def rejected_events(self, limit: int = 20) -> list[tuple[str, str, str | None, str]]:
        """The latest refusals: (source, run key, event id, error)."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT s.source, s.run_key, r.event_id, r.error FROM rejected r "
                "JOIN stream s ON s.id = r.stream_id ORDER BY r.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(a), str(b), c, str(d)) for a, b, c, d in rows]

    def _set_aside_orphan_journal(self) -> None:
        """A journal next to a new database belongs to a deleted one: its stream ids mean
        nothing here, so it is renamed, not absorbed (and not sent to the wrong run)."""
        if self.journal_path.exists() and self.journal_path.stat().st_size > 0:
            orphan = self.journal_path.with_name(
                f"{self.journal_path.name}.orphan-{time.strftime('%Y%m%dT%H%M%S')}"
            )
            self.journal_path.rename(orphan)
            log.warning("spool %s is new but %s held records of an older spool; kept as %s",
                        self.path, self.journal_path.name, orphan.name)

    def close(self) -> None:
        """Close the files; a fully absorbed journal is removed (nothing is left in it)."""
        with self._write_lock, self._journal_lock:
            try:
                if self._absorbing and os.fstat(self._journal).st_size == self._offset:
                    self.journal_path.unlink(missing_ok=True)
                    self._store_offset(0)  # a crash before this reads as "truncated"
            except sqlite3.Error:
                log.exception("could not reset the journal offset of %s", self.path)
            os.close(self._journal)
        with self._write_lock:
            self._write.close()
        with self._read_lock:
            self._read.close()


def make_private_dirs(folder: Path) -> None:
    """Create `folder` and its missing parents with mode 0700; existing ones stay as they are."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    for path in reversed(missing):
        path.mkdir(mode=DIR_MODE, exist_ok=True)


def make_private_file(path: Path, *, create: bool) -> None:
    """`path` readable by its owner only: tightened (with a warning) when it exists looser;
    created empty with mode 0600 when absent and `create` (SQLite takes an empty file as
    a new database)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        if create:
            with contextlib.suppress(FileExistsError):  # another process was first
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        return
    if current & ~FILE_MODE:
        path.chmod(current & FILE_MODE)
        log.warning("spool file %s was mode %03o, open to other users: now %03o",
                    path, current, current & FILE_MODE)  # fmt: skip


def parse_records(data: bytes) -> tuple[list[tuple[int, float, bytes]], int]:
    """Journal bytes → rows (stream id, time, body) and how many bytes they took.

    A record cut short (being written by another thread, or torn by a power loss)
    ends the parse; it is read again next time.
    """
    rows: list[tuple[int, float, bytes]] = []
    position = 0
    header = RECORD.size
    while position + header <= len(data):
        length, stream_id, at = RECORD.unpack_from(data, position)
        end = position + header + length
        if end > len(data):
            break
        rows.append((stream_id, at, data[position + header : end]))
        position = end
    return rows, position
