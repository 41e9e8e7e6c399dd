"""Operations: `python -m backend migrate` brings the database to the newest schema."""

from __future__ import annotations

import argparse

from backend.config import get_settings
from backend.db.engine import Database
from backend.db.migrate import current_revision, upgrade


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every pending Alembic migration")
    args = parser.parse_args(argv)

    database = Database(get_settings().resolved_database_url)
    try:
        if args.command == "migrate":
            upgrade(database.engine)
            print(f"schema at revision {current_revision(database.engine)}")  # noqa: T201
    finally:
        database.dispose()


if __name__ == "__main__":
    main()
