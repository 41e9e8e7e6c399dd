"""Security headers on every kind of response: API, dashboard, docs, errors, 404s, a 500."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from backend.api import static
from backend.api.app import create_app
from tests.conftest import make_settings

FIXED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
         "referrer-policy": "no-referrer"}  # fmt: skip


def policy(response: httpx.Response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive → sources."""
    directives = [part.split() for part in response.headers["content-security-policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><div id=root></div>")
    (folder / "assets" / "index-abc.js").write_text("console.log(1)")
    monkeypatch.setattr(static, "DIST_DIR", folder)
    return folder


@pytest.fixture
def app_client(dist: Path, sqlite_template: Path, tmp_path: Path) -> Iterator[TestClient]:
    database = tmp_path / "fillbook.db"
    shutil.copyfile(sqlite_template, database)
    app = create_app(make_settings(f"sqlite:///{database}", tmp_path / "data"))

    @app.get("/api/test-unhandled", include_in_schema=False)
    def unhandled() -> None:
        raise RuntimeError("boom")

    @app.get("/api/test-own-header", include_in_schema=False)
    def own_header() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Referrer-Policy": "same-origin"})

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class TestSecurityHeaders:
    def test_every_kind_of_response_carries_them(self, app_client: TestClient) -> None:
        calls = [
            ("GET", "/api/health", 200), ("GET", "/openapi.json", 200),
            ("GET", "/", 200), ("GET", "/trades/42", 200), ("GET", "/assets/index-abc.js", 200),
            ("GET", "/docs", 503),  # the swagger files are not in this dist
            ("GET", "/api/runs", 401), ("GET", "/api/nope", 404), ("GET", "/redoc", 404),
            ("DELETE", "/api/health", 405), ("GET", "/api/runs?limit=%00", 422),
            ("GET", "/api/test-unhandled", 500),
        ]  # fmt: skip
        for method, path, status in calls:
            response = app_client.request(method, path)
            assert response.status_code == status, (method, path, response.text)
            for name, value in FIXED.items():
                assert response.headers.get(name) == value, (path, name)
            assert policy(response)["frame-ancestors"] == ["'none'"], path

    def test_the_dashboard_may_load_only_from_its_own_origin(self, app_client: TestClient) -> None:
        csp = policy(app_client.get("/runs"))
        assert csp == {
            "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
            "img-src": ["'self'", "data:", "blob:"], "font-src": ["'self'"],
            # CSP level 3: 'self' matches ws:/wss: to this host, so the live stream connects
            "connect-src": ["'self'"], "object-src": ["'none'"], "base-uri": ["'none'"],
            "form-action": ["'self'"], "frame-ancestors": ["'none'"],
        }  # fmt: skip

    def test_other_responses_cannot_run_as_a_page(self, app_client: TestClient) -> None:
        for path in ("/api/health", "/api/nope", "/assets/index-abc.js", "/api/test-unhandled"):
            assert policy(app_client.get(path))["default-src"] == ["'none'"], path

    def test_a_response_keeps_a_header_it_set_itself(self, app_client: TestClient) -> None:
        # as /docs does with its own policy (tests/api/test_docs.py)
        response = app_client.get("/api/test-own-header")
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
