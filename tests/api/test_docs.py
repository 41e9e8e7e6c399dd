"""/docs: Swagger UI from this origin only, under a policy that allows nothing else."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api import static
from backend.api.app import create_app
from tests.conftest import make_settings

BUILT = (static.DIST_DIR / "index.html").is_file()
needs_build = pytest.mark.skipif(
    not BUILT, reason="frontend/dist is not built (make test builds it)"
)
SOURCES = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
SCRIPTS = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)


@pytest.fixture
def app_client(sqlite_template: Path, tmp_path: Path) -> Iterator[TestClient]:
    database = tmp_path / "fillbook.db"
    shutil.copyfile(sqlite_template, database)
    with TestClient(create_app(make_settings(f"sqlite:///{database}", tmp_path / "d"))) as client:
        yield client


def csp(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";")]
    return {words[0]: words[1:] for words in directives if words}


@needs_build
class TestDocsPage:
    def test_the_page_references_no_other_origin_and_runs_no_inline_script(
        self, app_client: TestClient
    ) -> None:
        response = app_client.get("/docs")
        assert response.status_code == 200, response.text
        references = SOURCES.findall(response.text)
        assert sorted(references) == ["/docs/swagger-init.js", "/docs/swagger-ui-bundle.js",
                                      "/docs/swagger-ui.css", "data:,"]  # fmt: skip
        scripts = SCRIPTS.findall(response.text)
        assert len(scripts) == 2
        assert all("src=" in attributes and body.strip() == "" for attributes, body in scripts)
        assert "cdn" not in response.text.lower()
        assert "//" not in "".join(references)

    def test_its_policy_allows_only_this_origin(self, app_client: TestClient) -> None:
        policy = csp(app_client.get("/docs").headers["content-security-policy"])
        assert policy["default-src"] == ["'self'"]  # scripts, styles, connections, fonts
        assert "script-src" not in policy
        assert "style-src" not in policy
        assert policy["img-src"] == ["'self'", "data:"]  # Swagger UI's icons are data: SVGs
        assert policy["frame-ancestors"] == ["'none'"]
        sources = {source for values in policy.values() for source in values}
        assert sources <= {"'self'", "'none'", "data:"}

    def test_the_assets_are_served_from_this_origin(self, app_client: TestClient) -> None:
        bundle = app_client.get("/docs/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert "SwaggerUIBundle" in bundle.text
        assert len(bundle.content) > 500_000
        style = app_client.get("/docs/swagger-ui.css")
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")
        assert ".swagger-ui" in style.text
        init = app_client.get("/docs/swagger-init.js")
        assert init.status_code == 200
        assert init.headers["content-type"].startswith("text/javascript")
        assert '"url": "/openapi.json"' in init.text
        assert '"validatorUrl": null' in init.text  # no badge image from validator.swagger.io
        assert app_client.get("/openapi.json").json()["info"]["title"] == "Fillbook"


class TestNoOtherDocs:
    def test_redoc_and_the_oauth2_redirect_page_are_not_served(
        self, app_client: TestClient
    ) -> None:
        for path in ("/redoc", "/docs/oauth2-redirect", "/docs/../redoc", "/docs/index.html"):
            response = app_client.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found"

    def test_the_docs_are_not_in_the_schema(self, app_client: TestClient) -> None:
        assert not any(
            p.startswith("/docs") for p in app_client.get("/openapi.json").json()["paths"]
        )

    def test_without_the_build_the_page_says_how_to_build_it(
        self, app_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(static, "DIST_DIR", tmp_path / "no-dist")
        with TestClient(create_app(app_client.app.state.context.settings)) as client:  # type: ignore[attr-defined]
            response = client.get("/docs")
            assert response.status_code == 503
            assert "npm run build" in response.text
            assert "/openapi.json" in response.text
            missing = client.get("/docs/swagger-ui-bundle.js")
            assert missing.status_code == 404
            assert "npm run build" in missing.json()["detail"]
