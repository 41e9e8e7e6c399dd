"""Start Fillbook: migrate the database, then serve the API (and the built dashboard).

    python run_server.py [--host 127.0.0.1] [--port 8000]

`DATABASE_URL` chooses the database (default: SQLite at data/fillbook.db).
`--with-training-node` also starts the training node (`python -m services.training_node`)
as a child process on the host and port of `TRAINING_NODE_URL` (default 127.0.0.1:8001),
with the same service token (`TRAINING_NODE_TOKEN`, or the one generated in the data
directory); `make run` passes it.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import os
import subprocess
import sys
from urllib.parse import urlsplit

import uvicorn

from backend.api.app import create_app
from backend.config import PROJECT_ROOT, Settings, get_settings
from backend.db.engine import Database
from backend.db.migrate import upgrade
from backend.training.service import node_token


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--with-training-node",
        action="store_true",
        help="also start the training node as a child process at TRAINING_NODE_URL",
    )
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
    if args.with_training_node:
        start_training_node(settings, args.log_level)
    app = create_app(settings)
    # Long-lived start-up objects out of the collector's sight, and fewer young-generation
    # passes: the collector cost 10-20 % of ingest and most of its p99 (performance-notes.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False)


def start_training_node(settings: Settings, log_level: str) -> None:
    """Start the training node as a child process, stopped when this process exits."""
    url = urlsplit(settings.training_node_url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"TRAINING_NODE_URL points elsewhere ({settings.training_node_url}): not starting one"
        )
        return
    env = {
        **os.environ,
        "TRAINING_NODE_TOKEN": node_token(settings),
        "TRAINING_NODE_DATA_DIR": os.environ.get(
            "TRAINING_NODE_DATA_DIR", str(settings.data_dir / "training_node")
        ),
    }
    command = [
        sys.executable,
        "-m",
        "services.training_node",
        "--host",
        url.hostname,
        "--port",
        str(url.port or 8001),
        "--log-level",
        log_level,
    ]
    node = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)

    def stop() -> None:
        if node.poll() is None:
            node.terminate()
            try:
                node.wait(10)
            except subprocess.TimeoutExpired:
                node.kill()

    atexit.register(stop)


if __name__ == "__main__":
    main()
