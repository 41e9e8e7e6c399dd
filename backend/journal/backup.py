"""Database backups: SQLite's online backup API while the service runs; pg_dump for PostgreSQL.

SQLite: `sqlite3.Connection.backup` copies the database page by page in
transactions of its own, so writers keep going (WAL) and the copy is a
consistent snapshot; the copy is then checked with `PRAGMA integrity_check`.
Restoring copies a checked backup over the database the same way; stop the
service first (docs/operations.md).

A backup is the whole journal: it is written with mode 0600 (a folder made for it,
0700).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from backend.file_modes import private_dir, private_file, private_sqlite

PAGES_PER_STEP = 1024  # the live database is locked for one step at a time, not the whole copy


class BackupError(Exception):
    pass


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def integrity_check(path: Path) -> str:
    """`ok`, or SQLite's list of problems."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        connection.close()
    return "; ".join(str(row[0]) for row in rows)


def backup_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the live database `source` at `target` (replaced if present)."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    private_dir(target.parent, tighten_existing=False)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 before SQLite writes a page into it
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        live.backup(copy, pages=PAGES_PER_STEP)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        live.close()
    verdict = integrity_check(partial)
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {verdict}")
    partial.replace(target)


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the database at `target` with the checked backup `backup`."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    verdict = integrity_check(backup)
    if verdict != "ok":
        raise BackupError(f"the backup failed its integrity check: {verdict}; nothing restored")
    private_sqlite(target)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    live = sqlite3.connect(target, timeout=30)
    try:
        source.backup(live, pages=PAGES_PER_STEP)
    finally:
        live.close()
        source.close()


def pg_dump_command(database_url: str, target: Path) -> list[str]:
    url = make_url(database_url).set(drivername="postgresql")
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
            f"--dbname={url.render_as_string(hide_password=False)}"]  # fmt: skip


def pg_restore_command(database_url: str, backup: Path) -> list[str]:
    url = make_url(database_url).set(drivername="postgresql")
    return ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            f"--dbname={url.render_as_string(hide_password=False)}", str(backup)]  # fmt: skip


def run_pg_tool(command: list[str]) -> None:
    """Run pg_dump / pg_restore, or say how to when it is not installed."""
    if shutil.which(command[0]) is None:
        shown = " ".join(c if "--dbname" not in c else "--dbname=$DATABASE_URL" for c in command)
        raise BackupError(
            f"{command[0]} is not installed here; install the PostgreSQL client tools of the "
            f"server's major version (Debian: postgresql-client), then run:\n  {shown}"
        )
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
