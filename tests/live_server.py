"""The backend as a real process on a free port, for tests that cross real HTTP.

    with LiveServer(tmp_path) as server:
        account = server.create_account("alice")
        httpx.post(f"{server.url}/api/ingest", headers=account.ingest_headers, ...)

`kill()` sends SIGKILL (nothing is flushed, as in a crash) and `start()` brings the
same database back, so fault tests can kill and restart the service at will.
`ServerProcess` is that life cycle for any service (tests/training_node_server.py).
Its own requests ignore proxy settings (`trust_env=False`): the server is on loopback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "live-server-test-secret-key-0123456789-0123456789-0123456789"


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def all_pages(
    http: httpx.Client, path: str, *, limit: int = 500, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list endpoint (`items`, `next_cursor`), in order."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = http.get(path, params=query).raise_for_status().json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


@dataclass(frozen=True)
class Account:
    """A registered user with a bearer token and an API key (scopes ingest and read)."""

    username: str
    token: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ingest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


class ServerProcess:
    """A service as a real process on a free port: started with health polling, killed
    (SIGKILL, as in a crash), stopped, and started again over the same `data_dir`.

    A subclass says what to run (`command`), with what environment (`environment`), and
    where it answers when healthy (`health_path`).
    """

    name = "server"
    health_path = "/health"
    stop_timeout = 10.0

    def __init__(
        self, data_dir: Path, *, port: int | None, env: dict[str, str] | None, log_name: str
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.log_path = data_dir / log_name
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The variables the process gets on top of this one's (before `env`)."""
        return {}

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until `health_path` answers 200."""
        if self.running:
            raise RuntimeError(f"the {self.name} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.environment(), **self.extra_env}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the {self.name} exited at start:\n{self.log()}")
            try:
                health = httpx.get(f"{self.url}{self.health_path}", timeout=1.0, trust_env=False)
                if health.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"the {self.name} did not become healthy in {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL, as in a crash: no shutdown hooks run."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self, timeout: float | None = None) -> None:
        """A graceful stop (SIGTERM), then SIGKILL if it does not exit in `timeout`."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"the {self.name} has not been started")
        return self._process.pid

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds of the process and its live descendants (the ingest
        writer and derivation workers), from Linux /proc; None where unavailable."""
        stats: dict[int, tuple[int, int]] = {}  # pid → (parent, CPU ticks)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        if self.pid not in stats:
            return None
        ticks, family = 0, [self.pid]
        while family:
            pid = family.pop()
            ticks += stats[pid][1]
            family += [child for child, (parent, _t) in stats.items() if parent == pid]
        return ticks / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class LiveServer(ServerProcess):
    """`run_server.py` in a subprocess over a SQLite file (or `database_url`) in `data_dir`."""

    health_path = "/api/health"

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(data_dir, port=port, env=env, log_name="server.log")
        self.database_url = database_url or f"sqlite:///{data_dir / 'fillbook.db'}"
        self.log_level = log_level
        self.extra_args = args

    def command(self) -> list[str]:
        return [sys.executable, str(PROJECT_ROOT / "run_server.py"), "--port", str(self.port),
                "--log-level", self.log_level, *self.extra_args]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "DATA_DIR": str(self.data_dir),
            "SECRET_KEY": TEST_SECRET_KEY,
            "BCRYPT_ROUNDS": "4",
            "REGISTRATIONS_PER_HOUR": "10000",  # suites register many users from 127.0.0.1
        }

    def create_account(self, username: str, password: str = "correct horse") -> Account:
        """Register `username`, log in, and create an API key that ingests and reads."""
        with httpx.Client(base_url=self.url, timeout=10.0, trust_env=False) as http:
            response = http.post(
                "/api/auth/register", json={"username": username, "password": password}
            )
            response.raise_for_status()
            response = http.post(
                "/api/auth/login", data={"username": username, "password": password}
            )
            response.raise_for_status()
            token = str(response.json()["access_token"])
            response = http.post(
                "/api/auth/api-keys",
                json={"name": "exporter", "scopes": ["ingest", "read"]},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            return Account(username, token, str(response.json()["key"]))
