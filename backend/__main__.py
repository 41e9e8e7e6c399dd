"""Operations from the command line (docs/operations.md).

    python -m backend migrate                  bring the schema to the newest revision
    python -m backend backup PATH              a consistent copy, also while serving; the
                                               attachment files go to PATH.attachments/
    python -m backend restore PATH             replace the database and the attachment files
                                               with a backup's (stop the service first)
    python -m backend export-user USER FILE    a user's journal as JSON lines
    python -m backend import-user USER FILE    add a journal to a user (idempotent)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from backend.config import get_settings
from backend.errors import AppError
from backend.journal import backup

if TYPE_CHECKING:
    from backend.db.engine import Database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m backend", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every pending Alembic migration")
    for name, text in (("backup", "copy the database to PATH (SQLite: online; PostgreSQL: "
                                  "pg_dump custom format)"),
                       ("restore", "replace the database with the backup at PATH")):  # fmt: skip
        command = commands.add_parser(name, help=text)
        command.add_argument("path", type=Path)
    for name, text in (("export-user", "write USER's journal to FILE (JSON lines)"),
                       ("import-user", "add the journal in FILE to USER")):  # fmt: skip
        command = commands.add_parser(name, help=text)
        command.add_argument("username")
        command.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    url = get_settings().resolved_database_url
    try:
        if args.command in ("backup", "restore"):
            _backup_or_restore(args.command, url, args.path)
            return
        from backend.db.engine import Database  # the heavier imports only where needed

        database = Database(url)
        try:
            _run(args, database)
        finally:
            database.dispose()
    except (backup.BackupError, AppError) as exc:
        sys.exit(f"{args.command} failed: {exc}")


def _run(args: argparse.Namespace, database: Database) -> None:
    from backend.db.migrate import current_revision, upgrade
    from backend.journal import service

    if args.command == "migrate":
        upgrade(database.engine)
        _say(f"schema at revision {current_revision(database.engine)}")
    elif args.command == "export-user":
        lines = service.export_user(database, args.username, args.file, get_settings().data_dir)
        _say(f"wrote {lines} lines to {args.file}")
    elif args.command == "import-user":
        result = service.import_user(database, args.username, args.file, get_settings().data_dir)
        _say(f"imported {result.runs} runs: {result.accepted} events stored, "
             f"{result.duplicates} already there, {len(result.rejected)} refused, "
             f"{result.dead_letters} dead letters, {result.annotations} trade notes, "
             f"{result.attachments} attachments")  # fmt: skip
        for problem in result.rejected[:20]:
            _say(f"  refused: {problem}")


def _backup_or_restore(command: str, url: str, path: Path) -> None:
    sqlite_file = backup.sqlite_path(url)
    files = get_settings().data_dir / "attachments"
    partial = backup.start_attachments_backup(files, path) if command == "backup" else None
    if sqlite_file is None:
        run = backup.backup_postgres if command == "backup" else backup.restore_postgres
        run(url, path)
    elif command == "backup":
        backup.backup_sqlite(sqlite_file, path)
    else:
        backup.restore_sqlite(path, sqlite_file)
    _say(f"{command} done: {path} (integrity check ok)" if sqlite_file else f"{command} done")
    folder = backup.attachments_backup(path)
    if partial is not None:
        count = backup.finish_attachments_backup(files, partial, path)
        _say(f"attachments: {count} files in {folder}")
    else:
        restored = backup.restore_attachments(path, files)
        _say(f"attachments: {restored} files restored into {files}" if restored is not None
             else f"attachments: no {folder} beside the backup; {files} left as it is")  # fmt: skip


def _say(text: str) -> None:
    print(text)  # noqa: T201


if __name__ == "__main__":
    main()
