"""Issue 16's findings, each performed as an attack over real HTTP against run_server.py.

Each test fails on the code before its fix: the backtest worker followed the Host header,
bodies were read whole before authentication, registration hashed inside the write lock,
the login throttle was a hard, unbounded lock.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from passlib.context import CryptContext

from backend.api.app import create_app
from backend.db.models import Role, User
from services.backtester.data import write_csv
from services.backtester.synthetic import random_walk
from tests.conftest import make_settings
from tests.ingest.helpers import app_context
from tests.live_server import Account, LiveServer


class TcpListener:
    """A port that counts who connects to it (the SSRF target)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.socket.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("hardening")
    tmp = folder / "tmp"
    tmp.mkdir()
    with LiveServer(folder / "backend", env={"TMPDIR": str(tmp)}) as live:
        yield live


@pytest.fixture(scope="module")
def live_alice(server: LiveServer) -> Account:
    return server.create_account("alice")


def _raw_request(port: int, head: bytes, body_chunks: Iterator[bytes], budget: int) -> tuple[
        bytes, int]:  # fmt: skip
    """Send `head`, then body chunks until the server answers or `budget` bytes went out;
    returns the answer's first bytes and how many body bytes were sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        conn.sendall(head)
        sent = 0
        conn.setblocking(False)
        answer = b""
        for chunk in body_chunks:
            try:
                answer += conn.recv(65536)
            except BlockingIOError:
                pass
            if answer or sent >= budget:
                break
            try:
                conn.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.01)
                continue
            sent += len(chunk)
        conn.setblocking(True)
        conn.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                more = conn.recv(65536)
                if not more:
                    break
                answer += more
        except (TimeoutError, ConnectionResetError):
            pass
        return answer, sent


def _chunks(size: int = 64 * 1024) -> Iterator[bytes]:
    while True:
        yield b"a" * size


class TestSsrf:
    def test_a_backtest_never_calls_the_host_the_client_names(
        self, server: LiveServer, live_alice: Account, tmp_path: Path
    ) -> None:
        target = TcpListener()
        try:
            path = tmp_path / "bars.csv"
            write_csv(path, random_walk(3_000, seed=3))
            with httpx.Client(base_url=server.url, headers=live_alice.headers, timeout=30,
                              trust_env=False) as http:  # fmt: skip
                response = http.post(
                    "/api/backtests",
                    headers={"Host": f"127.0.0.1:{target.port}"},
                    data={"strategy": "ma_cross", "interval": "1m", "symbol": "SSRF",
                          "params": json.dumps({"fast": 3, "slow": 8})},  # fmt: skip
                    files={"file": ("bars.csv", io.BytesIO(path.read_bytes()), "text/csv")},
                )
                assert response.status_code == 202, response.text
                backtest_id = response.json()["id"]
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    done = http.get(f"/api/backtests/{backtest_id}").json()
                    if done["status"] in ("completed", "failed"):
                        break
                    time.sleep(0.2)
            assert done["status"] == "completed", done["error"]  # pushed to INTERNAL_URL
            assert target.connections == 0
        finally:
            target.close()

    def test_a_host_header_the_server_does_not_serve_is_refused(self, server: LiveServer) -> None:
        response = httpx.get(f"{server.url}/api/health", headers={"Host": "evil.example"},
                             trust_env=False)  # fmt: skip
        assert response.status_code == 400


# What went out before the answer came: the server read at most its route's limit (64 KiB
# for login, 1 MiB elsewhere); loopback's kernel buffers hold a few MiB more unread.
IN_FLIGHT = 8 * 1024 * 1024


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class TestBodyLimits:
    def test_a_login_body_is_refused_within_the_first_mib(self, server: LiveServer) -> None:
        head = (b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
        chunks = (f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in _chunks())
        before = _rss_kib(server.pid)
        answer, sent = _raw_request(server.port, head, chunks, budget=64 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < IN_FLIGHT  # answered long before the 64 MiB the client would send
        assert _rss_kib(server.pid) - before < 16 * 1024

    def test_a_declared_length_over_the_limit_is_refused_before_any_byte(
        self, server: LiveServer
    ) -> None:
        head = (b"PATCH /api/trades/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n")  # fmt: skip
        answer, sent = _raw_request(server.port, head, _chunks(), budget=64 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < IN_FLIGHT

    def test_an_upload_without_credentials_is_refused_before_its_body_is_read(
        self, server: LiveServer
    ) -> None:
        tmp = Path(server.data_dir).parent / "tmp"
        head = (b"POST /api/backtests HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: multipart/form-data; boundary=xyz\r\n"
                b"Content-Length: 1000000000\r\n\r\n"
                b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n')  # fmt: skip
        answer, sent = _raw_request(server.port, head, _chunks(), budget=64 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert sent < IN_FLIGHT
        assert list(tmp.iterdir()) == []  # nothing spooled to /tmp


def _one_fill(exec_id: str) -> dict[str, object]:
    return {"source": "s", "run": {"key": "r", "strategy": "s", "mode": "live"},
            "events": [{"type": "execution", "id": exec_id, "side": "buy", "symbol": "ES",
                        "ts": "2023-12-15T14:30:00Z", "qty": 1, "price": 100.0}]}  # fmt: skip


class TestRegistration:
    def test_sign_ups_do_not_stall_ingest(self, tmp_path: Path) -> None:
        rounds = 13
        started = time.perf_counter()
        CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds).hash("one hash, timed")
        one_hash = time.perf_counter() - started
        with LiveServer(tmp_path, env={"BCRYPT_ROUNDS": str(rounds)}) as live:
            account = live.create_account("ingester")
            with httpx.Client(base_url=live.url, headers=account.ingest_headers, timeout=60,
                              trust_env=False) as http:  # the first batch warms the writer up
                assert http.post("/api/ingest", json=_one_fill("warm-up")).status_code == 200
            sign_ups = [threading.Thread(target=httpx.post, args=(f"{live.url}/api/auth/register",),
                                         kwargs={"json": {"username": f"user{n}",
                                                          "password": "correct horse"},
                                                 "timeout": 60, "trust_env": False})
                        for n in range(4)]  # fmt: skip
            for thread in sign_ups:
                thread.start()
            time.sleep(0.05)
            latencies = []
            with httpx.Client(base_url=live.url, headers=account.ingest_headers, timeout=60,
                              trust_env=False) as http:  # fmt: skip
                for n in range(5):
                    begun = time.perf_counter()
                    assert http.post("/api/ingest", json=_one_fill(f"x{n}")).status_code == 200
                    latencies.append(time.perf_counter() - begun)
            for thread in sign_ups:
                thread.join()
        # Hashing inside the write lock made each ingest wait for every queued sign-up.
        assert max(latencies) < max(0.5 * one_hash, 0.05) * 4, (latencies, one_hash)

    def test_registrations_per_address_are_limited(self, tmp_path: Path) -> None:
        with LiveServer(tmp_path, env={"REGISTRATIONS_PER_HOUR": "3"}) as live:
            codes = [httpx.post(f"{live.url}/api/auth/register", trust_env=False,
                                json={"username": f"user{n}", "password": "correct horse"}).status_code
                     for n in range(5)]  # fmt: skip
            last = httpx.post(f"{live.url}/api/auth/register", trust_env=False,
                              json={"username": "user9", "password": "correct horse"})  # fmt: skip
        assert codes == [201, 201, 201, 429, 429]
        assert int(last.headers["Retry-After"]) > 3000

    @pytest.mark.parametrize(("mode", "codes"), [("closed", [403, 403]),
                                                 ("first-user-only", [201, 403])])  # fmt: skip
    def test_registration_can_be_closed(
        self, database_url: str, tmp_path: Path, mode: str, codes: list[int]
    ) -> None:
        settings = make_settings(database_url, tmp_path / "data", registration=mode)
        with TestClient(create_app(settings)) as client:
            answers = [client.post("/api/auth/register",
                                   json={"username": name, "password": "correct horse"})
                       for name in ("first", "second")]  # fmt: skip
        assert [a.status_code for a in answers] == codes
        assert f"REGISTRATION={mode}" in answers[-1].json()["detail"]

    def test_simultaneous_first_sign_ups_make_one_admin(self, client: TestClient) -> None:
        barrier = threading.Barrier(6)

        def sign_up(n: int) -> None:
            barrier.wait()
            client.post("/api/auth/register",
                        json={"username": f"first{n}", "password": "correct horse"})  # fmt: skip

        threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app_context(client).db.session() as session:
            roles = [user.role for user in session.query(User).all()]
        assert len(roles) == 6
        assert roles.count(Role.ADMIN) == 1


class TestLoginThrottle:
    def test_an_attacker_cannot_lock_a_user_out(self, server: LiveServer) -> None:
        server.create_account("victim", "the right password")
        attacker = httpx.Client(base_url=server.url, trust_env=False,
                                transport=httpx.HTTPTransport(local_address="127.0.0.2"))  # fmt: skip
        with attacker:
            codes = [attacker.post("/api/auth/login", data={"username": "victim",
                                                             "password": f"guess {n}"}).status_code
                     for n in range(12)]  # fmt: skip
        assert codes[:6] == [401] * 6
        assert 429 in codes[6:]  # the attacker's address backs off
        victim = httpx.post(f"{server.url}/api/auth/login", trust_env=False,
                            data={"username": "victim", "password": "the right password"})  # fmt: skip
        assert victim.status_code == 200, victim.text

    def test_long_passwords_and_usernames_are_a_401_not_a_500(self, server: LiveServer) -> None:
        for username, password in (("alice", "é" * 100), ("x" * 10_000, "correct horse")):
            response = httpx.post(f"{server.url}/api/auth/login", trust_env=False,
                                  data={"username": username, "password": password})  # fmt: skip
            assert response.status_code == 401, response.text


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


class TestOddParameters:
    """Bad parameters are a 4xx naming them, never a 500."""

    @pytest.mark.parametrize(
        ("path", "named"),
        [
            ("/api/runs/1/executions?start=²", "start"),
            ("/api/trades?start=²", "start"),
            ("/api/bars?symbol=A&timeframe=1m&start=²", "start"),
            ("/api/trades?cursor=%%%", "cursor"),
            *[(f"{base}cursor={_cursor(value)}", "cursor")
              for base in ("/api/trades?", "/api/trades?sort=net_pnl&", "/api/trades?sort=-qty&",
                           "/api/runs/1/trades?", "/api/runs/1/executions?", "/api/runs?")
              for value in ([True, 1], ["a", 1], [1, 2**70], [2**70, 1], ["x" * 5000, 1],
                            [1.5, "1"])
              if not (base.endswith("qty&") and value == [2**70, 1])],  # a float: a real qty cursor
        ],  # fmt: skip
    )
    def test_a_bad_parameter_is_a_4xx_naming_it(
        self, client: TestClient, alice: dict[str, str], path: str, named: str
    ) -> None:
        response = client.get(path, headers=alice)
        assert 400 <= response.status_code < 500, (path, response.text)
        if response.status_code == 422:
            assert named in response.text, response.text
