"""Several backend processes on one PostgreSQL: live updates reach every client, writes stay exact."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import _postgres_database
from tests.live_server import Account, LiveServer
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres
RUN = {"key": "r", "strategy": "x", "mode": "live"}
T0 = 1_704_189_600_000_000_000


@pytest.fixture(scope="module")
def two_servers(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two backend processes on one database (shared by the tests: each uses its own user)."""
    url = _postgres_database(postgres_server)
    root = tmp_path_factory.mktemp("two")
    a, b = LiveServer(root / "a", database_url=url), LiveServer(root / "b", database_url=url)
    a.start()
    try:
        b.start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


@contextlib.contextmanager
def _stream(server: LiveServer, account: Account) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{server.port}/api/stream?token={account.token}") as socket:
        assert orjson.loads(socket.recv(timeout=10))["type"] == "hello"
        yield socket


def _next(socket: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = orjson.loads(socket.recv(timeout=15))
        if message["type"] == kind:
            return message


def _fill(exec_id: str, offset: int, side: str = "buy") -> dict[str, Any]:
    return {"type": "execution", "id": exec_id, "ts": T0 + offset, "symbol": "ES", "side": side,
            "qty": 1, "price": 100.0}  # fmt: skip


class TestTwoProcesses:
    def test_a_client_of_one_process_hears_an_ingest_through_the_other(
        self, two_servers: tuple[LiveServer, LiveServer]
    ) -> None:
        a, b = two_servers
        account = a.create_account("listener")
        with _stream(a, account) as on_a, _stream(b, account) as on_b:
            body = {"source": "s", "run": RUN, "events": [_fill("x1", 0), _fill("x2", 10, "sell")]}
            response = httpx.post(f"{b.url}/api/ingest", json=body, headers=account.ingest_headers)
            assert response.status_code == 200, response.text
            for socket in (on_a, on_b):  # each client once, whichever process committed
                assert _next(socket, "ingested")["accepted"] == 2
                assert _next(socket, "position_derived")["symbol"] == "ES"

    def test_concurrent_duplicates_through_both_are_stored_once(
        self, two_servers: tuple[LiveServer, LiveServer]
    ) -> None:
        a, b = two_servers
        account = b.create_account("pusher")
        events = [_fill(f"x{i}", i * 1000, "buy" if i % 2 else "sell") for i in range(300)]
        orders = [{"type": "order", "id": f"o1:{n}", "order_id": "o1", "ts": T0 + n * 1000,
                   "symbol": "ES", "side": "buy", "order_type": "limit", "qty": 1,
                   "status": "working" if n < 19 else "filled", "limit_price": 100.0 + n}
                  for n in range(20)]  # fmt: skip
        results: list[dict[str, Any]] = []

        def push(server: LiveServer, part: int) -> None:
            with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=60) as http:
                body = {"source": "s", "run": RUN, "events": events + orders[part::4]}
                response = http.post("/api/ingest", json=body)
                assert response.status_code == 200, response.text
                results.append(response.json())

        threads = [threading.Thread(target=push, args=((a, b)[n % 2], n % 4)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 8
        assert sum(r["accepted"] for r in results) == 300 + 20  # each fill, each order event once
        assert sum(r["duplicates"] for r in results) == 7 * 300 + 20
        with httpx.Client(base_url=a.url, headers=account.headers, timeout=30) as http:
            run_id = results[0]["run_id"]
            fills = http.get(f"/api/runs/{run_id}/executions", params={"limit": 1000}).json()["items"]
            assert sorted(f["id"] for f in fills) == sorted(e["id"] for e in events)
            order = http.get(f"/api/runs/{run_id}/orders/o1").json()
            assert (order["status"], order["limit_price"]) == ("filled", 119.0)  # the latest event


class TestWorkers:
    def test_run_server_with_two_workers_serves_live_updates(
        self, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        server = LiveServer(tmp_path, database_url=_postgres_database(postgres_server),
                            args=("--workers", "2"))  # fmt: skip
        server.start(timeout=120)  # each worker imports the backend before it answers
        try:
            self._check(server)
        finally:
            server.stop()

    def _check(self, server: LiveServer) -> None:
        account = server.create_account("alice")
        with _stream(server, account) as socket, httpx.Client(
            base_url=server.url, headers=account.ingest_headers, timeout=30
        ) as http:
            for n in range(6):  # new connections: the workers share them out
                body = {"source": "s", "run": RUN, "events": [_fill(f"w{n}", n)]}
                assert http.post("/api/ingest", json=body, headers={"Connection": "close"}).status_code == 200
                assert _next(socket, "ingested")["accepted"] == 1
