from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.api.context import AppContext
from backend.db.models import User
from tests.conftest import create_api_key, login, register


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


class TestRegisterAndLogin:
    def test_first_user_is_admin_later_users_are_not(self, client: TestClient) -> None:
        register(client, "alice")
        register(client, "bob")
        alice = client.get("/api/auth/me", headers=login(client, "alice")).json()
        bob = client.get("/api/auth/me", headers=login(client, "bob")).json()
        assert (alice["username"], alice["role"]) == ("alice", "ADMIN")
        assert (bob["username"], bob["role"]) == ("bob", "USER")

    def test_duplicate_username_is_a_conflict(self, client: TestClient) -> None:
        register(client, "alice")
        response = client.post(
            "/api/auth/register", json={"username": "alice", "password": "another one"}
        )
        assert response.status_code == 409
        assert response.json() == {"error": "conflict", "detail": "username: 'alice' is taken"}

    def test_invalid_fields_are_named(self, client: TestClient) -> None:
        response = client.post("/api/auth/register", json={"username": "a b", "password": "short"})
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "invalid_payload"
        assert [problem["field"] for problem in body["errors"]] == ["username", "password"]
        assert "password: must be at least 8 characters, got 5" in body["detail"]

    def test_password_longer_than_bcrypt_allows_is_refused(self, client: TestClient) -> None:
        response = client.post("/api/auth/register", json={"username": "al1", "password": "é" * 40})
        assert response.status_code == 422
        assert "at most 72 bytes" in response.json()["detail"]

    def test_wrong_password_is_401(self, client: TestClient) -> None:
        register(client, "alice")
        response = client.post(
            "/api/auth/login", data={"username": "alice", "password": "nope!!!!"}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == "incorrect username or password"

    def test_password_is_never_stored_or_logged(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        register(client, "alice", "s3cret-Passw0rd")
        login(client, "alice", "s3cret-Passw0rd")
        client.post("/api/auth/login", data={"username": "alice", "password": "s3cret-Wrong"})
        with _context(client).db.session() as session:
            stored = session.scalars(select(User.password_hash)).one()
        assert stored.startswith("$2b$")
        assert "s3cret" not in stored
        assert "s3cret" not in caplog.text

    def test_repeated_failures_are_throttled(self, client: TestClient) -> None:
        register(client, "alice")
        limit = _context(client).settings.login_max_failures
        for _ in range(limit + 1):  # the free failures, then one that starts the back-off
            bad = client.post("/api/auth/login", data={"username": "alice", "password": "bad-pass"})
            assert bad.status_code == 401
        blocked = client.post(
            "/api/auth/login", data={"username": "alice", "password": "correct horse"}
        )
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == "1"  # 1 s, then 2, 4 ...: no hard lock
        assert blocked.json()["error"] == "too_many_requests"
        # another username is not affected
        register(client, "bob")
        login(client, "bob")
        time.sleep(1.05)
        login(client, "alice")  # the back-off passed: the right password works again


class TestTokens:
    def test_missing_credentials_are_401(self, client: TestClient) -> None:
        response = client.get("/api/auth/me")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"] == "not_authenticated"

    def test_tampered_and_expired_tokens_are_401(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        token = alice["Authorization"].removeprefix("Bearer ")
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        expired = _context(client).tokens.encode(
            1, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        )
        for bad in (tampered, expired, "not.a.token", "garbage"):
            response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401, bad

    def test_deactivated_user_loses_access_at_once(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        bob_id = client.get("/api/auth/me", headers=bob).json()["id"]
        response = client.patch(
            f"/api/admin/users/{bob_id}", json={"is_active": False}, headers=alice
        )
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert client.get("/api/auth/me", headers=bob).status_code == 401


class TestApiKeys:
    def test_key_is_shown_once_and_authenticates(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        key = create_api_key(client, alice, "desk-1")
        listed = client.get("/api/auth/api-keys", headers=alice).json()
        assert [(k["name"], k["prefix"]) for k in listed] == [("desk-1", key[:10])]
        assert "key" not in listed[0]
        assert key not in str(listed)
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200
        assert me.json()["username"] == "alice"
        used = client.get("/api/auth/api-keys", headers=alice).json()[0]
        assert used["last_used_at"] is not None

    def test_revoked_key_stops_working_at_once(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        key = create_api_key(client, alice)
        key_headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/auth/me", headers=key_headers).status_code == 200
        key_id = client.get("/api/auth/api-keys", headers=alice).json()[0]["id"]
        assert client.delete(f"/api/auth/api-keys/{key_id}", headers=alice).status_code == 204
        response = client.get("/api/auth/me", headers=key_headers)
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid API key: unknown or revoked"

    def test_unknown_key_is_401(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.get("/api/auth/me", headers={"Authorization": "Bearer fb_notakey"})
        assert response.status_code == 401

    def test_api_key_cannot_manage_keys_or_users(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        key_headers = {"Authorization": f"Bearer {create_api_key(client, alice)}"}
        for method, path in [
            ("post", "/api/auth/api-keys"),
            ("get", "/api/auth/api-keys"),
            ("delete", "/api/auth/api-keys/1"),
            ("get", "/api/admin/users"),
            ("patch", "/api/admin/users/1"),
        ]:
            response = client.request(method, path, json={"name": "x"}, headers=key_headers)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"] == "forbidden"

    def test_cannot_revoke_another_users_key(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        create_api_key(client, alice)
        alice_key_id = client.get("/api/auth/api-keys", headers=alice).json()[0]["id"]
        assert client.delete(f"/api/auth/api-keys/{alice_key_id}", headers=bob).status_code == 404
        assert client.get("/api/auth/api-keys", headers=alice).json()[0]["revoked_at"] is None


class TestAdmin:
    def test_admin_lists_and_promotes_users(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        users = client.get("/api/admin/users", headers=alice).json()
        assert [(u["username"], u["role"]) for u in users] == [("alice", "ADMIN"), ("bob", "USER")]
        assert client.get("/api/admin/users", headers=bob).status_code == 403
        response = client.patch(
            f"/api/admin/users/{users[1]['id']}", json={"role": "ADMIN"}, headers=alice
        )
        assert response.json()["role"] == "ADMIN"
        assert client.get("/api/admin/users", headers=bob).status_code == 200

    def test_last_admin_cannot_demote_itself(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        alice_id = client.get("/api/auth/me", headers=alice).json()["id"]
        response = client.patch(
            f"/api/admin/users/{alice_id}", json={"role": "USER"}, headers=alice
        )
        assert response.status_code == 409
        assert "last active ADMIN" in response.json()["detail"]

    def test_unknown_user_is_404(self, client: TestClient, alice: dict[str, str]) -> None:
        assert client.patch("/api/admin/users/999", json={}, headers=alice).status_code == 404


class TestSettings:
    def test_user_sets_a_valid_time_zone(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.patch(
            "/api/auth/me", json={"timezone": "America/New_York"}, headers=alice
        )
        assert response.status_code == 200
        assert response.json()["timezone"] == "America/New_York"
        bad = client.patch("/api/auth/me", json={"timezone": "Mars/Olympus"}, headers=alice)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "timezone"
