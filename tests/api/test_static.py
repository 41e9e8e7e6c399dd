from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api import static
from backend.api.app import create_app
from tests.conftest import make_settings

INDEX = "<!doctype html><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the bundle")
    monkeypatch.setattr(static, "DIST_DIR", folder)
    return folder


@pytest.fixture
def app_client(dist: Path, sqlite_template: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The real app over a SQLite copy; serving files does not depend on the database."""
    database = tmp_path / "fillbook.db"
    shutil.copyfile(sqlite_template, database)
    settings = make_settings(f"sqlite:///{database}", tmp_path / "data")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class TestDashboard:
    def test_root_and_client_routes_get_the_index(self, app_client: TestClient) -> None:
        for path in ("/", "/trades/42", "/runs", "/settings?tab=keys"):
            response = app_client.get(path)
            assert response.status_code == 200, path
            assert response.text == INDEX
            assert response.headers["cache-control"] == "no-cache"

    def test_hashed_assets_are_served_and_cached(self, app_client: TestClient) -> None:
        response = app_client.get("/assets/index-abc123.js")
        assert response.status_code == 200
        assert response.text == "console.log(1)"
        assert "immutable" in response.headers["cache-control"]

    def test_paths_outside_the_bundle_are_not_served(self, app_client: TestClient) -> None:
        for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
            assert "outside the bundle" not in app_client.get(path).text

    def test_api_docs_and_schema_are_not_shadowed(self, app_client: TestClient) -> None:
        assert app_client.get("/api/health").json()["status"] == "ok"
        assert app_client.get("/openapi.json").json()["info"]["title"] == "Fillbook"
        assert "swagger" in app_client.get("/docs").text.lower()
        for method, path in (("GET", "/api/nope"), ("POST", "/api/nope"), ("GET", "/api")):
            response = app_client.request(method, path)
            assert response.status_code == 404, (method, path)
            assert response.json()["error"] == "not_found"

    def test_the_route_is_not_in_the_schema(self, app_client: TestClient) -> None:
        assert not any("{path" in path for path in app_client.get("/openapi.json").json()["paths"])

    def test_unbuilt_dashboard_says_how_to_build_it(
        self, app_client: TestClient, dist: Path
    ) -> None:
        (dist / "index.html").unlink()
        response = app_client.get("/trades")
        assert response.status_code == 503
        assert "npm run build" in response.text


class TestReserved:
    @pytest.mark.parametrize(
        ("path", "reserved"),
        [("api/x", True), ("api", True), ("docs", True), ("openapi.json", True),
         ("apiary", False), ("trades/1", False), ("", False)],
    )  # fmt: skip
    def test_is_reserved(self, path: str, reserved: bool) -> None:
        assert static.is_reserved(path) is reserved
