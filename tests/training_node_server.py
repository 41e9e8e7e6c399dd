"""The training node as a real process on a free port, for tests over real HTTP.

    with NodeServer(tmp_path / "node") as node:
        httpx.post(f"{node.url}/train", headers=node.headers, json=...)

`kill()` sends SIGKILL (as in a crash); `start()` brings the same job store back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.live_server import PROJECT_ROOT, free_port

NODE_TEST_TOKEN = "node-test-token-0123456789abcdef"
TERMINAL = ("succeeded", "failed", "cancelled")


class NodeServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        token: str = NODE_TEST_TOKEN,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.extra_env = env or {}
        self.log_path = data_dir / "node.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TRAINING_NODE_TOKEN": self.token,
            "TRAINING_NODE_DATA_DIR": str(self.data_dir),
            "TRAINING_NODE_CANCEL_GRACE_S": "5",
            **self.extra_env,
        }
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "services.training_node",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the node exited at start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"the node did not answer in {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self, job_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/status/{job_id}", headers=self.headers, timeout=10.0)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_for(
        self, job_id: str, statuses: tuple[str, ...], timeout: float = 120.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(job_id)
            if status["status"] in statuses:
                return status
            time.sleep(0.2)
        raise TimeoutError(
            f"job {job_id} not in {statuses} after {timeout} s: {status}\n{self.log()}"
        )

    def __enter__(self) -> NodeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
