"""Request ids: accepted or generated, echoed, and in every log line; credentials in URLs redacted."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from backend.api.app import create_app
from backend.config import Settings
from backend.observability.logs import (
    JsonFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    logging_config,
    redact,
)
from tests.live_server import LiveServer


class TestRequestId:
    def test_a_sane_client_id_is_echoed(self, client: TestClient) -> None:
        for url in ("/api/health", "/api/runs", "/api/nothing-here"):
            response = client.get(url, headers={"X-Request-ID": "trace-42.a:b"})
            assert response.headers["x-request-id"] == "trace-42.a:b"

    def test_a_missing_or_unsafe_id_is_replaced_by_a_generated_one(self, client: TestClient) -> None:
        seen = set()
        for given in (None, "has space", "x" * 200, "quote\"d", "semi;colon"):
            headers = {} if given is None else {"X-Request-ID": given}
            rid = client.get("/api/health", headers=headers).headers["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
            seen.add(rid)
        assert len(seen) == 5


class TestJsonLogs:
    def test_every_line_of_a_request_names_it(self, tmp_path: Path) -> None:
        server = LiveServer(tmp_path, env={"LOG_FORMAT": "json"}, log_level="info")
        with server:
            account = server.create_account("alice")
            response = httpx.post(f"{server.url}/api/ingest", content=b"{", timeout=10,
                                  headers={**account.ingest_headers, "X-Request-ID": "req-bad-json",
                                           "Content-Type": "application/json"})  # fmt: skip
            assert response.status_code == 400
            httpx.get(f"{server.url}/api/runs", headers={**account.headers, "X-Request-ID": "req-runs"})
        lines = [orjson.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        assert lines, server.log()
        assert all({"ts", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
        mine = [line for line in lines if line["request_id"] == "req-bad-json"]
        assert [line["logger"] for line in mine] == ["uvicorn.access"]
        assert '"POST /api/ingest HTTP/1.1" 400' in mine[0]["message"]
        assert any(line["request_id"] == "req-runs" for line in lines)
        assert any(line["request_id"] == "-" for line in lines)  # start-up lines: no request


class TestContext:
    def test_lines_logged_by_sync_and_async_endpoints_carry_the_id(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = create_app(settings)
        probe = logging.getLogger("tests.probe")

        @app.get("/api/_probe_sync")
        def sync_probe() -> dict[str, str]:  # runs in the thread pool
            probe.warning("sync line")
            return {}

        @app.get("/api/_probe_async")
        async def async_probe() -> dict[str, str]:
            probe.warning("async line")
            return {}

        caplog.handler.addFilter(RequestIdFilter())
        with TestClient(app) as client, caplog.at_level(logging.WARNING, "tests.probe"):
            client.get("/api/_probe_sync", headers={"X-Request-ID": "one"})
            client.get("/api/_probe_async", headers={"X-Request-ID": "two"})
        ids = [(r.getMessage(), getattr(r, "request_id", None)) for r in caplog.records
               if r.name == "tests.probe"]  # fmt: skip
        assert ids == [("sync line", "one"), ("async line", "two")]
        assert [JsonFormatter().format(r) for r in caplog.records if r.name == "tests.probe"][0].startswith("{")


    def test_an_unhandled_500_carries_the_id_and_its_log_line_names_it(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = create_app(settings)

        @app.get("/api/_probe_boom")
        def boom() -> None:
            raise RuntimeError("boom")

        caplog.handler.addFilter(RequestIdFilter())
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/api/_probe_boom", headers={"X-Request-ID": "req-boom"})
        assert response.status_code == 500
        assert response.headers["x-request-id"] == "req-boom"
        logged = [getattr(r, "request_id", None) for r in caplog.records
                  if "unhandled error on GET /api/_probe_boom" in r.getMessage()]  # fmt: skip
        assert logged == ["req-boom"]


class TestSecretsInUrls:
    def test_token_and_ticket_values_are_redacted(self) -> None:
        assert redact("/api/stream?token=eyJ.a-b_c") == "/api/stream?token=[redacted]"
        assert redact("GET /api/stream?x=1&ticket=st_abc&y=2 HTTP/1.1") == (
            "GET /api/stream?x=1&ticket=[redacted]&y=2 HTTP/1.1"
        )
        assert redact("/api/runs?run_key=token&limit=5") == "/api/runs?run_key=token&limit=5"
        record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s" %d',
                                   ("127.0.0.1", "GET", "/api/stream?token=fb_secret", 200), None)  # fmt: skip
        assert RedactSecretsFilter().filter(record)
        assert record.getMessage() == '127.0.0.1 - "GET /api/stream?token=[redacted]" 200'

    def test_the_logging_config_redacts_uvicorns_lines(self) -> None:
        config = logging_config()
        assert "redact" in config["handlers"]["stderr"]["filters"]
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            assert config["loggers"][name]["filters"] == ["redact"]

    def test_no_credential_reaches_the_servers_log(self, tmp_path: Path) -> None:
        """The attack: read the access log for `?token=`. Tokens, keys and tickets in stream
        URLs (accepted and refused ones) and in a plain GET's query are all redacted."""
        server = LiveServer(tmp_path, log_level="info")
        with server:
            account = server.create_account("alice")
            ws = server.url.replace("http://", "ws://") + "/api/stream"
            ticket = httpx.post(f"{server.url}/api/stream/ticket", headers=account.headers).json()["ticket"]
            secrets = [account.token, account.api_key, ticket]
            for query in (f"token={account.token}", f"token={account.api_key}", f"ticket={ticket}"):
                with connect(f"{ws}?{query}") as socket:
                    assert orjson.loads(socket.recv(timeout=10))["type"] == "hello"
            with pytest.raises(InvalidStatus):  # refused: the used ticket is logged too
                connect(f"{ws}?ticket={ticket}").close()
            httpx.get(f"{server.url}/api/runs?token={account.api_key}", headers=account.headers)
        log = server.log()
        assert log.count("token=[redacted]") >= 3, log
        assert log.count("ticket=[redacted]") >= 2, log
        leaked = [secret[:12] for secret in secrets if secret in log]
        assert not leaked, log
