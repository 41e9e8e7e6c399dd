"""/api/webhooks: registration rules, the secret shown once, owner-only access (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.db.models import WebhookEndpoint
from backend.webhooks.addresses import Resolver
from backend.webhooks.service import webhook_sender
from tests.ingest.helpers import app_context

PUBLIC = "93.184.216.34"


def public_resolver(client: TestClient, address: str = PUBLIC) -> None:
    """Names resolve to `address` (no DNS in tests)."""

    def resolve(_host: str, _port: int) -> list[str]:
        return [address]

    resolve_: Resolver = resolve
    webhook_sender(app_context(client)).resolve = resolve_


def create(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    payload = {"url": "https://hooks.example.com/fillbook", "events": ["run.ended"], **body}
    response = client.post("/api/webhooks", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


class TestEndpoints:
    def test_create_shows_the_secret_once_and_never_again(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        public_resolver(client)
        created = create(client, alice, events=["training.finished", "run.ended", "run.ended"],
                         description="desk alerts")  # fmt: skip
        secret = str(created["secret"])
        assert secret.startswith("whsec_")
        assert len(secret) == 49
        assert created["events"] == ["run.ended", "training.finished"]
        assert created["secret_hint"] == secret[:10]
        assert (created["enabled"], created["consecutive_failures"]) == (True, 0)
        listed = client.get("/api/webhooks", headers=alice).json()
        assert [e["id"] for e in listed] == [created["id"]]
        assert "secret" not in listed[0]
        one = client.get(f"/api/webhooks/{created['id']}", headers=alice).json()
        assert "secret" not in one
        assert secret not in str(one)
        with app_context(client).db.session() as session:
            stored = session.get(WebhookEndpoint, created["id"])
            assert stored is not None
            assert secret not in stored.secret_sealed

    def test_rotate_gives_a_new_secret_once(self, client: TestClient, alice: dict[str, str]) -> None:
        public_resolver(client)
        created = create(client, alice)
        rotated = client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=alice)
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != created["secret"]
        assert rotated.json()["secret_hint"] == rotated.json()["secret"][:10]

    def test_update_and_delete(self, client: TestClient, alice: dict[str, str]) -> None:
        public_resolver(client)
        created = create(client, alice)
        path = f"/api/webhooks/{created['id']}"
        changed = client.patch(path, json={"events": ["backtest.finished"], "enabled": False},
                               headers=alice)  # fmt: skip
        assert changed.status_code == 200, changed.text
        assert (changed.json()["events"], changed.json()["enabled"]) == (["backtest.finished"], False)
        assert client.delete(path, headers=alice).status_code == 204
        assert client.get(path, headers=alice).status_code == 404

    def test_bad_input_names_the_field(self, client: TestClient, alice: dict[str, str]) -> None:
        public_resolver(client)
        response = client.post("/api/webhooks", json={"url": "https://h.example.com/",
                               "events": ["webhook.test"]}, headers=alice)  # fmt: skip
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "events"
        assert "webhook.test cannot be subscribed to" in response.json()["errors"][0]["problem"]
        response = client.post("/api/webhooks", json={"url": "https://h.example.com/",
                               "events": []}, headers=alice)  # fmt: skip
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "events"

    def test_another_users_endpoint_is_404_everywhere(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        public_resolver(client)
        created = create(client, alice)
        path = f"/api/webhooks/{created['id']}"
        assert client.get("/api/webhooks", headers=bob).json() == []
        for method, url, body in [("GET", path, None), ("PATCH", path, {"enabled": False}),
                                  ("DELETE", path, None), ("POST", f"{path}/test", None),
                                  ("POST", f"{path}/rotate-secret", None),
                                  ("GET", f"{path}/deliveries", None)]:  # fmt: skip
            response = client.request(method, url, json=body, headers=bob)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["detail"] == f"webhook_id: no webhook {created['id']}"
        assert client.get(path, headers=alice).json()["enabled"] is True

    def test_a_person_is_needed_not_an_api_key(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        assert client.get("/api/webhooks").status_code == 401
        assert client.get("/api/webhooks", headers=alice_key).status_code == 403


class TestRegistrationRefusals:
    def test_private_loopback_and_mapped_addresses_are_refused(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        for url, why in [
            ("https://127.0.0.1/h", "127.0.0.1 is a loopback address"),
            ("https://[::1]/h", "::1 is a loopback address"),
            ("https://[::ffff:127.0.0.1]/h", "127.0.0.1 is a loopback address (inside the IPv6 "
             "address ::ffff:7f00:1)"),
            ("https://10.0.0.8/h", "10.0.0.8 is a private address"),
            ("https://169.254.169.254/h", "169.254.169.254 is a link-local address"),
        ]:  # fmt: skip
            response = client.post("/api/webhooks", json={"url": url, "events": ["run.ended"]},
                                   headers=alice)  # fmt: skip
            assert response.status_code == 422, (url, response.text)
            host = url.split("//")[1].split("/")[0].strip("[]")
            problem = (f"webhooks are not sent to {host}: {why}; an admin may allow it with "
                       "WEBHOOK_ALLOW_PRIVATE=1 or WEBHOOK_ALLOWED_HOSTS")  # fmt: skip
            assert response.json() == {"error": "invalid_payload", "detail": f"url: {problem}",
                                       "errors": [{"field": "url", "problem": problem}]}  # fmt: skip

    def test_a_name_resolving_to_loopback_and_plain_http_are_refused(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        public_resolver(client, "127.0.0.1")
        response = client.post("/api/webhooks", json={"url": "https://sneaky.example.com/",
                               "events": ["run.ended"]}, headers=alice)  # fmt: skip
        assert response.status_code == 422
        assert "127.0.0.1 is a loopback address" in response.json()["detail"]
        public_resolver(client)
        response = client.post("/api/webhooks", json={"url": "http://hooks.example.com/",
                               "events": ["run.ended"]}, headers=alice)  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"].startswith(
            "url: url must use https, got http://hooks.example.com"
        )
        assert client.get("/api/webhooks", headers=alice).json() == []
