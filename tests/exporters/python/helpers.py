"""Shared pieces of the exporter tests: a scripted HTTP server and reads from a live backend."""

from __future__ import annotations

import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.live_server import Account, LiveServer, all_pages

BASE_NS = 1_702_650_600_000_000_000  # 2023-12-15T14:30:00Z
RUN = {"key": "r-1", "strategy": "Exporter test", "mode": "backtest"}


class ScriptedServer:
    """A real HTTP server that answers `POST /api/ingest` from a script, then with 200.

    Each script item is (status, headers). After the script it answers 200 with
    `accepted` = the number of events in the body, plus the keys of the next item of
    `extra` while there is one. Records when each request came and its path (with
    the query string). A `GET` is answered with the next of `gets` (the last one
    again once they run out; 404 without any) and its path recorded in `get_paths`.
    """

    def __init__(
        self, script: list[tuple[int, dict[str, str]]],
        extra: list[dict[str, Any]] | None = None, gets: list[dict[str, Any]] | None = None,
    ) -> None:
        self.script = list(script)
        self.extra = list(extra or [])
        self.gets = list(gets or [])
        self.request_times: list[float] = []
        self.paths: list[str] = []
        self.get_paths: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.request_times.append(time.monotonic())
                outer.paths.append(self.path)
                if outer.script:
                    status, headers = outer.script.pop(0)
                    payload = orjson.dumps({"detail": f"scripted {status}"})
                else:
                    status, headers = 200, {}
                    document = orjson.loads(body)
                    outer.bodies.append(document)
                    answer = {"run_id": 1, "accepted": len(document["events"]),
                              "duplicates": 0, "rejected": []}
                    payload = orjson.dumps({**answer, **(outer.extra.pop(0) if outer.extra
                                                         else {})})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                outer.get_paths.append(self.path)
                status, answer = (404, {"detail": "not scripted"}) if not outer.gets else (
                    200, outer.gets.pop(0) if len(outer.gets) > 1 else outer.gets[0])
                payload = orjson.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def gaps(self) -> list[float]:
        times = self.request_times
        return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def db_path(server: LiveServer) -> Path:
    return Path(server.database_url.removeprefix("sqlite:///"))


def wait_derived(server: LiveServer, timeout: float = 180.0) -> None:
    """Until the backend's derivation runner has re-derived every pending position."""
    deadline = time.monotonic() + timeout
    pending = -1
    while time.monotonic() < deadline:
        with sqlite3.connect(db_path(server)) as connection:
            pending = connection.execute("SELECT COUNT(*) FROM pending_derivation").fetchone()[0]
        if pending == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the backend did not finish deriving trades in {timeout} s: "
                       f"{pending} positions pending; its log ends:\n{server.log()[-3000:]}")


def pages(server: LiveServer, account: Account, path: str, **params: Any) -> list[Any]:
    """Every item of a paged list endpoint."""
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=30.0,
                      trust_env=False) as http:  # fmt: skip
        return all_pages(http, path, **params)


def run_id(server: LiveServer, account: Account, key: str) -> int:
    for run in pages(server, account, "/api/runs"):
        if run["key"] == key:
            return int(run["id"])
    raise LookupError(f"no run {key!r}")


TRADE_FIELDS = ("symbol", "direction", "qty", "max_position", "entry_ts", "exit_ts",
                "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl", "open")


def trades(server: LiveServer, account: Account, key: str) -> list[tuple[Any, ...]]:
    """The run's trades as comparable tuples (ids differ between databases)."""
    rid = run_id(server, account, key)
    rows = pages(server, account, f"/api/runs/{rid}/trades")
    return sorted(tuple(row[field] for field in TRADE_FIELDS) for row in rows)
