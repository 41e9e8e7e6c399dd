"""`python -m services.training_node [--host 127.0.0.1] [--port 8001]`: serve the training node.

Settings come from the environment (see `services/training_node/config.py`);
`TRAINING_NODE_TOKEN` is required.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

import uvicorn

from services.training_node.app import create_app
from services.training_node.config import NodeConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if os.environ.get("TRAINING_NODE_EXIT_WITH_PARENT") == "1":
        threading.Thread(
            target=_stop_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
        ).start()
    try:
        config = NodeConfig.from_env()
    except ValueError as exc:
        logging.getLogger("training_node").error("%s", exc)
        return 2
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _stop_with_parent(parent_pid: int) -> None:
    """Started by `run_server.py`: stop gracefully when that process is gone, however it ended."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
