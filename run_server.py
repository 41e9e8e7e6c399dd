"""Start Fillbook: migrate the database, then serve the API (and the built dashboard).

    python run_server.py [--host 127.0.0.1] [--port 8000] [--workers N]

`DATABASE_URL` chooses the database (default: SQLite at data/fillbook.db).
`--workers N` runs N Uvicorn worker processes; it needs PostgreSQL (docs/scaling.md).
`LOG_FORMAT=json` writes JSON lines, each with the request id.
`--with-training-node` also starts the training node (`python -m services.training_node`)
as a child process on the host and port of `TRAINING_NODE_URL` (default 127.0.0.1:8001),
with the same service token (`TRAINING_NODE_TOKEN`, or the one generated in the data
directory); `make run` passes it.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import logging.config
import os
import subprocess
import sys
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from backend.api.app import create_app
from backend.config import PROJECT_ROOT, Settings, get_settings
from backend.db.engine import Database
from backend.db.migrate import upgrade
from backend.file_modes import private_data_dir
from backend.observability.logs import logging_config
from backend.runtime import tune_gc
from backend.training.service import node_token


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (PostgreSQL only; default 1)"
    )
    parser.add_argument(
        "--with-training-node",
        action="store_true",
        help="also start the training node as a child process at TRAINING_NODE_URL",
    )
    args = parser.parse_args(argv)
    bind_address(args.host, args.port)
    try:
        settings = get_settings()
    except ValidationError as exc:  # a weak secret, a bad value: say which, plainly
        problems = "\n".join(f"  {error['msg'].removeprefix('Value error, ')}"
                              for error in exc.errors())  # fmt: skip
        sys.exit(f"the settings are not usable:\n{problems}")
    log_config = logging_config(args.log_level, settings.log_format)
    logging.config.dictConfig(log_config)
    if args.workers > 1 and not settings.resolved_database_url.startswith("postgres"):
        parser.error("--workers > 1 needs DATABASE_URL on PostgreSQL (see docs/scaling.md)")
    private_data_dir(settings.data_dir)  # before anything writes there: 0700, files 0600
    database = Database(settings.resolved_database_url)
    try:
        upgrade(database.engine)
    finally:
        database.dispose()
    if args.with_training_node:
        start_training_node(settings, args.log_level)
    options = {"host": args.host, "port": args.port, "log_level": args.log_level,
               "log_config": log_config, "proxy_headers": False}  # fmt: skip
    if args.workers > 1:  # each worker process builds its own app (and ingest writer)
        # A worker imports the whole backend before it can answer the supervisor's ping.
        uvicorn.run("run_server:worker_app", factory=True, workers=args.workers,
                    timeout_worker_healthcheck=120, **options)  # fmt: skip
    else:
        uvicorn.run(worker_app(), **options)


_WILDCARDS = ("0.0.0.0", "::", "")


def bind_address(host: str, port: int) -> None:
    """Tell the app where it listens, unless the environment says so already: its own
    workers call INTERNAL_URL (never a client's Host header), and ALLOWED_HOSTS gains the
    bound host. Serving on 0.0.0.0 needs ALLOWED_HOSTS for the names clients use."""
    loopback = host in _WILDCARDS or host in ("127.0.0.1", "localhost")
    own = "127.0.0.1" if loopback else host
    shown = f"[{own}]" if ":" in own else own
    os.environ.setdefault("INTERNAL_URL", f"http://{shown}:{port}")
    if "ALLOWED_HOSTS" not in os.environ:
        hosts = ["localhost", "127.0.0.1"] + ([] if loopback else [host])
        os.environ["ALLOWED_HOSTS"] = ",".join(hosts)
        if host in _WILDCARDS:
            print("serving on all interfaces: set ALLOWED_HOSTS to the names clients use "
                  "(requests with other Host headers get 400)")  # fmt: skip
    get_settings.cache_clear()


def worker_app() -> FastAPI:
    """The app of one serving process (the factory each Uvicorn worker calls)."""
    app = create_app(get_settings())
    tune_gc()
    return app


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
        # uvicorn ends this process by re-raising SIGTERM/SIGINT, so atexit may not run
        "TRAINING_NODE_EXIT_WITH_PARENT": "1",
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
