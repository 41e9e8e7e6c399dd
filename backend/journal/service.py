"""Export and import for one user, from the CLI (no server running) or the API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import select

from backend.db.engine import Database
from backend.db.models import User
from backend.errors import NotFound
from backend.ingest.derivations import DerivationRunner
from backend.journal.export import export_lines
from backend.journal.importer import ImportResult, ParsedJournal, import_journal, parse_journal
from backend.trades.rebuild import prepare_rebuild


def find_user(db: Database, username: str) -> User:
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"username: no user {username!r}")
    return user


def stream_export(db: Database, user: User, data_dir: Path) -> Iterator[bytes]:
    """The journal's lines, read in one snapshot (one read transaction)."""
    with db.session() as session:
        yield from export_lines(session, user, data_dir)


def export_user(db: Database, username: str, path: Path, data_dir: Path) -> int:
    """Write `username`'s journal to `path`; the number of lines."""
    user = find_user(db, username)
    count = 0
    with path.open("wb") as handle:
        for line in stream_export(db, user, data_dir):
            handle.write(line)
            count += 1
    return count


def import_lines(
    db: Database,
    user_id: int,
    lines: Iterable[bytes | str],
    derive: Callable[[], None],
    data_dir: Path,
) -> ImportResult:
    return import_journal(db, user_id, parse_journal(lines), derive, data_dir)


def import_parsed(
    db: Database,
    user_id: int,
    journal: ParsedJournal,
    derive: Callable[[], None],
    data_dir: Path,
) -> ImportResult:
    """Store a journal `JournalParser` has read (the API streams the upload through one)."""
    return import_journal(db, user_id, journal, derive, data_dir)


def import_user(db: Database, username: str, path: Path, data_dir: Path) -> ImportResult:
    """Import the journal at `path` into `username`, deriving its trades here and now."""
    user = find_user(db, username)
    runner = DerivationRunner(db)
    runner.preparers.append(prepare_rebuild)
    with path.open("rb") as handle:
        return import_lines(db, user.id, handle, lambda: _derive_all(runner), data_dir)


def _derive_all(runner: DerivationRunner) -> None:
    if runner.run_pending():
        raise RuntimeError("some positions failed to derive; they stay pending for the server")
