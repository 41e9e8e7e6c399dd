"""Start Fillbook: migrate the database, then serve the API (and the built dashboard).

    python run_server.py [--host 127.0.0.1] [--port 8000]

`DATABASE_URL` chooses the database (default: SQLite at data/fillbook.db).
"""

from __future__ import annotations

import argparse
import gc
import logging

import uvicorn

from backend.api.app import create_app
from backend.config import get_settings
from backend.db.engine import Database
from backend.db.migrate import upgrade


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    settings = get_settings()
    database = Database(settings.resolved_database_url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()
    app = create_app(settings)
    # Long-lived start-up objects out of the collector's sight, and fewer young-generation
    # passes: the collector cost 10-20 % of ingest and most of its p99 (performance-notes.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False)


if __name__ == "__main__":
    main()
