from __future__ import annotations

from fastapi.testclient import TestClient

from backend import __version__
from backend.db.migrate import head_revision


class TestHealth:
    def test_reports_database_schema_and_version(self, client: TestClient) -> None:
        response = client.get("/api/health")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "schema_version": head_revision(),
            "schema_head": head_revision(),
            "app_version": __version__,
        }

    def test_docs_and_openapi_are_served(self, client: TestClient) -> None:
        assert client.get("/docs").status_code == 200
        paths = client.get("/openapi.json").json()["paths"]
        assert "/api/auth/login" in paths
        assert "/api/health" in paths
