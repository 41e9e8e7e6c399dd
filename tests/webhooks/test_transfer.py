"""Webhook endpoints in the journal export (never the secret) and back on import (both databases)."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from backend.webhooks.transfer import IMPORTED_REASON
from tests.conftest import login, register
from tests.webhooks.test_api import create, public_resolver


class TestTransfer:
    def test_exported_without_the_secret_and_imported_disabled(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        public_resolver(client)
        created = create(client, alice, events=["run.ended", "backtest.finished"],
                         description="desk")  # fmt: skip
        exported = client.get("/api/export", headers=alice)
        assert exported.status_code == 200
        assert str(created["secret"]) not in exported.text
        assert str(created["secret_hint"]) not in exported.text
        records = [orjson.loads(line) for line in exported.text.splitlines()]
        assert [r for r in records if r["kind"] == "webhook_endpoint"] == [
            {"kind": "webhook_endpoint", "url": "https://hooks.example.com/fillbook",
             "description": "desk", "events": ["run.ended", "backtest.finished"], "enabled": True}
        ]  # fmt: skip

        register(client, "carol")
        carol = login(client, "carol")
        made = []
        for _ in range(2):  # idempotent: the second import makes nothing
            imported = client.post("/api/import", content=exported.content, headers={
                **carol, "Content-Type": "application/x-ndjson"})  # fmt: skip
            assert imported.status_code == 200, imported.text
            made.append(imported.json()["webhooks"])
        assert made == [1, 0]
        (endpoint,) = client.get("/api/webhooks", headers=carol).json()
        assert (endpoint["url"], endpoint["events"], endpoint["enabled"], endpoint["secret_hint"],
                endpoint["disabled_reason"]) == (
            "https://hooks.example.com/fillbook", ["run.ended", "backtest.finished"], False, "",
            IMPORTED_REASON)  # fmt: skip
        path = f"/api/webhooks/{endpoint['id']}"
        refused = client.patch(path, json={"enabled": True}, headers=carol)
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            f"webhook {endpoint['id']} has no secret (it was imported): rotate its secret first"
        )
        assert client.post(f"{path}/rotate-secret", headers=carol).status_code == 200
        enabled = client.patch(path, json={"enabled": True}, headers=carol)
        assert enabled.status_code == 200
        assert enabled.json()["enabled"] is True
