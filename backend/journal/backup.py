"""Database backups: SQLite's online backup API while the service runs; pg_dump for PostgreSQL.

SQLite: `sqlite3.Connection.backup` copies the database page by page in
transactions of its own, so writers keep going (WAL) and the copy is a
consistent snapshot; the copy is then checked with `PRAGMA integrity_check`.
Restoring copies a checked backup over the database the same way; stop the
service first (docs/operations.md).

A backup is the whole journal: it is written with mode 0600 (a folder made for it,
0700). pg_dump and pg_restore get the URL's password in a passfile of their own
(`PGPASSFILE`, mode 0600, removed after), never on their command line, which every
user of the machine can read (`ps`); `--no-password`: they never wait for a prompt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from backend.file_modes import open_private, private_dir, private_file, private_sqlite

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


@dataclass(frozen=True)
class PgCommand:
    """A PostgreSQL client tool's command line, which never holds the password, and the
    password, which `run_pg_tool` hands over in a passfile."""

    argv: list[str]
    password: str | None = field(default=None, repr=False)


def _connection(database_url: str) -> tuple[str, str | None]:
    """The libpq URL without its password, and the password."""
    url = make_url(database_url)
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=False), url.password


def pg_dump_command(database_url: str, target: Path) -> PgCommand:
    dbname, password = _connection(database_url)
    argv = ["pg_dump", "--no-password", "--format=custom", "--no-owner", f"--file={target}",
            f"--dbname={dbname}"]  # fmt: skip
    return PgCommand(argv, password)


def pg_restore_command(database_url: str, backup: Path) -> PgCommand:
    dbname, password = _connection(database_url)
    argv = ["pg_restore", "--no-password", "--clean", "--if-exists", "--no-owner",
            "--single-transaction", f"--dbname={dbname}", str(backup)]  # fmt: skip
    return PgCommand(argv, password)


def passfile_line(password: str) -> str:
    """A `.pgpass` line that gives `password` for any host, port, database and user
    (the file serves one command); `:` and `\\` escaped as libpq reads them."""
    if "\n" in password or "\r" in password:
        raise BackupError("the password holds a line break, which a passfile cannot hold")
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


@contextmanager
def pg_environment(password: str | None) -> Iterator[dict[str, str]]:
    """The environment to run a client tool in: this process's, without `PGPASSWORD`, and
    with a password a `PGPASSFILE` (mode 0600) that is removed when the block ends."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")}
    if password is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="fillbook-pg-") as folder:  # 0700
        passfile = Path(folder) / "pgpass"
        with open_private(passfile) as handle:
            handle.write(passfile_line(password).encode())
        yield {**env, "PGPASSFILE": str(passfile)}


def backup_postgres(database_url: str, target: Path) -> None:
    """pg_dump's custom format at `target`, mode 0600."""
    command = pg_dump_command(database_url, target)
    _require(command)
    private_dir(target.parent, tighten_existing=False)
    private_file(target)  # pg_dump truncates it and keeps the mode
    run_pg_tool(command)


def restore_postgres(database_url: str, backup: Path) -> None:
    """pg_restore the custom-format `backup` into the database."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    run_pg_tool(pg_restore_command(database_url, backup))


def _require(command: PgCommand) -> None:
    if shutil.which(command.argv[0]) is None:
        shown = " ".join(c if "--dbname" not in c else "--dbname=$DATABASE_URL"
                         for c in command.argv)  # fmt: skip
        raise BackupError(
            f"{command.argv[0]} is not installed here; install the PostgreSQL client tools of "
            f"the server's major version (Debian: postgresql-client), then run:\n  {shown}"
        )


def run_pg_tool(command: PgCommand) -> None:
    """Run pg_dump / pg_restore (the password in a passfile), or say how to when it is not
    installed."""
    _require(command)
    with pg_environment(command.password) as env:
        result = subprocess.run(command.argv, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise BackupError(f"{command.argv[0]} failed: {result.stderr.strip()}")


# -- attachment files ------------------------------------------------------------------------
# A backup at PATH keeps the attachment files (backend/attachments) in the folder
# `PATH.attachments/` beside it, the same tree as `<data dir>/attachments/`.

ATTACHMENTS_SUFFIX = ".attachments"


def attachments_backup(backup: Path) -> Path:
    """Where the backup at `backup` keeps its attachment files."""
    return backup.with_name(backup.name + ATTACHMENTS_SUFFIX)


def start_attachments_backup(source: Path, backup: Path) -> Path:
    """First pass, before the database is copied: every attachment file now in `source`
    (the data directory's `attachments/`) into a partial folder beside `backup`.

    A row the database copy holds had its file written before it committed, so the file is
    copied by this pass or by `finish_attachments_backup`'s, which runs once the database
    copy is done and adds the files written meanwhile. A file whose row was deleted before
    the database copy may be copied too: the service removes it at its next start."""
    partial = attachments_backup(backup).with_name(attachments_backup(backup).name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    private_dir(partial.parent, tighten_existing=False)
    private_dir(partial)
    _copy_missing(source, partial)
    return partial


def finish_attachments_backup(source: Path, partial: Path, backup: Path) -> int:
    """Second pass: the files written since the first, then the folder put in place
    (replacing an older backup's). The number of files the backup holds."""
    _copy_missing(source, partial)
    final = attachments_backup(backup)
    _swap_in(partial, final)
    return sum(1 for path in final.rglob("*") if path.is_file())


def restore_attachments(backup: Path, target: Path) -> int | None:
    """Replace the data directory's `attachments/` (`target`) with the backup's; None when
    the backup has no attachment folder (one made before attachments existed), in which
    case `target` is left as it is. The number of files restored."""
    source = attachments_backup(backup)
    if not source.is_dir():
        return None
    incoming = target.with_name(target.name + ".restoring")
    if incoming.exists():
        shutil.rmtree(incoming)
    private_dir(incoming)
    _copy_missing(source, incoming)
    _swap_in(incoming, target)
    return sum(1 for path in target.rglob("*") if path.is_file())


def _copy_missing(source: Path, target: Path) -> None:
    """Copy the files under `source` that `target` lacks (folders 0700, files 0600);
    partial files of uploads in progress are left out."""
    if not source.is_dir():
        return
    for folder in sorted(p for p in source.rglob("*") if p.is_dir() and not p.is_symlink()):
        private_dir(target / folder.relative_to(source))
    for path in source.rglob("*"):
        if not path.is_file() or path.is_symlink() or path.name.endswith(".partial"):
            continue
        copy = target / path.relative_to(source)
        if copy.exists():
            continue
        try:
            with path.open("rb") as original, open_private(copy) as handle:
                shutil.copyfileobj(original, handle)
        except FileNotFoundError:  # deleted since it was listed: its row is gone too
            copy.unlink(missing_ok=True)


def _swap_in(ready: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    ready.rename(final)
    if old.exists():
        shutil.rmtree(old)
