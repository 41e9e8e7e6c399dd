"""The node's job store: one SQLite file (WAL) in the data directory, plus a folder per job.

The API process and the worker processes each open their own connections; each
call is one short transaction. A job's request (with its data) is kept as
`jobs/<id>/request.json` next to its artifacts, not in the table.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
MAX_CURVE_POINTS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    run_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    curve TEXT NOT NULL DEFAULT '{"episode_returns": [], "losses": []}',
    report TEXT,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_job_status ON job (status, seq);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class JobRecord:
    id: str
    run_id: int
    status: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    step: int
    total_steps: int
    progress: float
    curve: dict[str, Any]
    report: dict[str, Any] | None
    error: str | None
    cancel_requested: bool


class JobStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.jobs_dir = data_dir / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "jobs.db"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.row_factory = sqlite3.Row
            yield connection
        finally:
            connection.close()

    def folder(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def create(self, run_id: int, total_steps: int, request_json: str) -> str:
        """Queue a job; its request is written before the row, so a queued row always has one."""
        job_id = uuid.uuid4().hex
        folder = self.folder(job_id)
        folder.mkdir(parents=True)
        (folder / "request.json").write_text(request_json)
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO job (id, run_id, status, created_at, total_steps) VALUES (?,?,?,?,?)",
                (job_id, run_id, QUEUED, _now(), total_steps),
            )
        return job_id

    def request_json(self, job_id: str) -> str:
        return (self.folder(job_id) / "request.json").read_text()

    def get(self, job_id: str) -> JobRecord | None:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM job WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _record(row)

    def list_jobs(self, limit: int = 100, status: str | None = None) -> list[JobRecord]:
        """Newest first."""
        query, params = "SELECT * FROM job", []
        if status is not None:
            query += " WHERE status = ?"
            params.append(status)
        query += " ORDER BY seq DESC LIMIT ?"
        with self._connect() as connection:
            rows = connection.execute(query, (*params, limit)).fetchall()
        return [_record(row) for row in rows]

    def claim_next(self) -> str | None:
        """Mark the oldest queued job running and return its id."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            row = connection.execute(
                "SELECT id FROM job WHERE status = ? ORDER BY seq LIMIT 1", (QUEUED,)
            ).fetchone()
            if row is None:
                connection.execute("COMMIT")
                return None
            connection.execute(
                "UPDATE job SET status = ?, started_at = ? WHERE id = ?",
                (RUNNING, _now(), row["id"]),
            )
            connection.execute("COMMIT")
        return str(row["id"])

    def update_progress(self, job_id: str, step: int, curve: dict[str, Any]) -> bool:
        """Record progress; True when a cancel was requested."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE job SET step = ?, progress = CAST(? AS REAL) / total_steps, curve = ? "
                "WHERE id = ? AND status = ?",
                (step, step, json.dumps(_thin(curve)), job_id, RUNNING),
            )
            row = connection.execute(
                "SELECT cancel_requested FROM job WHERE id = ?", (job_id,)
            ).fetchone()
        return bool(row is not None and row["cancel_requested"])

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        report: dict[str, Any] | None = None,
        error: str | None = None,
        only_if: str = RUNNING,
    ) -> bool:
        """Move a job from `only_if` to a final status; False when it was not in `only_if`."""
        if status not in FINISHED:
            raise ValueError(f"status must be one of {FINISHED}, got {status!r}")
        progress_sql = ", progress = 1.0, step = total_steps" if status == SUCCEEDED else ""
        with self._connect() as connection:
            cursor = connection.execute(
                f"UPDATE job SET status = ?, finished_at = ?, report = ?, error = ?{progress_sql} "
                "WHERE id = ? AND status = ?",
                (
                    status,
                    _now(),
                    None if report is None else json.dumps(report),
                    error,
                    job_id,
                    only_if,
                ),
            )
            return cursor.rowcount == 1

    def request_cancel(self, job_id: str) -> JobRecord | None:
        """A queued job is cancelled at once; a running one is flagged for its worker."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "UPDATE job SET status = ?, finished_at = ?, cancel_requested = 1 "
                "WHERE id = ? AND status = ?",
                (CANCELLED, _now(), job_id, QUEUED),
            )
            connection.execute(
                "UPDATE job SET cancel_requested = 1 WHERE id = ? AND status = ?",
                (job_id, RUNNING),
            )
            connection.execute("COMMIT")
        return self.get(job_id)

    def fail_running(self, reason: str) -> list[str]:
        """Fail every job left running (by a node that stopped); their ids."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute("SELECT id FROM job WHERE status = ?", (RUNNING,)).fetchall()
            connection.execute(
                "UPDATE job SET status = ?, finished_at = ?, error = ? WHERE status = ?",
                (FAILED, _now(), reason, RUNNING),
            )
            connection.execute("COMMIT")
        return [str(row["id"]) for row in rows]


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        run_id=row["run_id"],
        status=row["status"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        step=row["step"],
        total_steps=row["total_steps"],
        progress=row["progress"],
        curve=json.loads(row["curve"]),
        report=None if row["report"] is None else json.loads(row["report"]),
        error=row["error"],
        cancel_requested=bool(row["cancel_requested"]),
    )


def _thin(curve: dict[str, Any]) -> dict[str, Any]:
    """At most MAX_CURVE_POINTS per series, evenly spaced, the latest always kept."""
    out = {}
    for name, points in curve.items():
        if len(points) > MAX_CURVE_POINTS:
            stride = -(-len(points) // MAX_CURVE_POINTS)
            points = points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])
        out[name] = points
    return out
