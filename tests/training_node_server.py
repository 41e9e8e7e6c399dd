"""The training node as a real process on a free port, for tests over real HTTP.

    with NodeServer(tmp_path / "node") as node:
        httpx.post(f"{node.url}/train", headers=node.headers, json=...)

`kill()` sends SIGKILL (as in a crash); `start()` brings the same job store back
(the life cycle is tests/live_server.py's `ServerProcess`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import ServerProcess

NODE_TEST_TOKEN = "node-test-token-0123456789abcdef"


class NodeServer(ServerProcess):
    """`python -m services.training_node` with its job store in `data_dir`."""

    name = "node"
    health_path = "/health"
    stop_timeout = 15.0

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        token: str = NODE_TEST_TOKEN,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(data_dir, port=port, env=env, log_name="node.log")
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "services.training_node", "--port", str(self.port),
                "--log-level", "warning"]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {
            "TRAINING_NODE_TOKEN": self.token,
            "TRAINING_NODE_DATA_DIR": str(self.data_dir),
            "TRAINING_NODE_CANCEL_GRACE_S": "5",
        }

    def status(self, job_id: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.url}/status/{job_id}", headers=self.headers, timeout=10.0, trust_env=False
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_for(
        self, job_id: str, statuses: tuple[str, ...], timeout: float = 120.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.status(job_id)
            if status["status"] in statuses:
                return status
            time.sleep(0.2)
        raise TimeoutError(
            f"job {job_id} not in {statuses} after {timeout} s: {status}\n{self.log()}"
        )
