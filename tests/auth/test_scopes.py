"""API key scopes and expiry: what a key may do, shown in the list, and the attacks they stop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from backend.db.models import ApiKey
from tests.ingest.helpers import CONTRACT_EVENTS, batch, push

VALID = "valid scopes: ingest, read, write:journal, backtests, training, export"
SOON = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()


def new_key(client: TestClient, owner: dict[str, str], **body: object) -> dict[str, object]:
    response = client.post("/api/auth/api-keys", json={"name": "desk", **body}, headers=owner)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def bearer(created: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {created['key']}"}


def refused_for(response: Response, scope: str) -> bool:
    return (
        response.status_code == 403
        and response.json()["error"] == "forbidden"
        and response.json()["detail"].startswith(f"this API key lacks the '{scope}' scope; ")
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TestCreatingKeys:
    def test_a_key_made_from_a_name_alone_only_ingests(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        """The contract's `{"name": ...}` still makes a key that ingests: an exporter's key."""
        created = new_key(client, alice)
        assert created["scopes"] == ["ingest"]
        assert created["expires_at"] is None
        assert push(client, bearer(created), batch(CONTRACT_EVENTS))["accepted"] == 5
        assert refused_for(client.get("/api/runs", headers=bearer(created)), "read")

    def test_scopes_are_kept_in_their_canonical_order(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        created = new_key(client, alice, scopes=["export", "read", "ingest", "read"])
        assert created["scopes"] == ["ingest", "read", "export"]
        (listed,) = client.get("/api/auth/api-keys", headers=alice).json()
        assert listed["scopes"] == ["ingest", "read", "export"]

    @pytest.mark.parametrize(
        ("scopes", "problem"),
        [
            (["ingest", "admin"], f"unknown scope 'admin'; {VALID}"),
            (["READ"], f"unknown scope 'READ'; {VALID}"),
            ([7], f"unknown scope 7; {VALID}"),
            ([], f"name at least one scope; {VALID}"),
        ],
    )
    def test_an_unknown_scope_is_a_422_naming_it_and_the_valid_ones(
        self, client: TestClient, alice: dict[str, str], scopes: list[object], problem: str
    ) -> None:
        response = client.post(
            "/api/auth/api-keys", json={"name": "x", "scopes": scopes}, headers=alice
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "scopes", "problem": problem}]
        assert client.get("/api/auth/api-keys", headers=alice).json() == []

    def test_expiry_in_days_or_at_a_time(self, client: TestClient, alice: dict[str, str]) -> None:
        in_days = new_key(client, alice, expires_in_days=30)
        expires = dt.datetime.fromisoformat(str(in_days["expires_at"]))
        assert abs(expires - (_now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
        when = (_now() + dt.timedelta(days=90)).replace(microsecond=0)
        at = new_key(client, alice, expires_at=when.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat())
        assert dt.datetime.fromisoformat(str(at["expires_at"])) == when
        listed = client.get("/api/auth/api-keys", headers=alice).json()
        assert [k["expires_at"] for k in listed] == [in_days["expires_at"], at["expires_at"]]

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ({"expires_in_days": 0}, "expires_in_days: Input should be greater than or equal to 1"),
            ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at: must be in the future, got 2020-01-01T00:00:00+00:00"),
            ({"expires_at": "2030-01-01T00:00:00"}, "expires_at: Input should have timezone info"),
            ({"expires_in_days": 5, "expires_at": SOON}, "give expires_at or expires_in_days, not both"),
            ({"expires_at": "2099-01-01T00:00:00Z"}, "expires_at: must be within 3650 days"),
            ({"expires_in_days": 3651}, "expires_in_days: Input should be less than or equal to 3650"),
        ],
    )
    def test_a_bad_expiry_is_a_422(
        self, client: TestClient, alice: dict[str, str], body: dict[str, object], problem: str
    ) -> None:
        response = client.post("/api/auth/api-keys", json={"name": "x", **body}, headers=alice)
        assert response.status_code == 422
        assert problem in response.json()["detail"]

    def test_the_list_shows_scopes_created_last_used_and_expiry(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        created = new_key(client, alice, scopes=["read"], expires_in_days=7)
        (listed,) = client.get("/api/auth/api-keys", headers=alice).json()
        assert set(listed) == {"id", "name", "prefix", "scopes", "created_at", "expires_at",
                               "last_used_at", "revoked_at"}  # fmt: skip
        assert listed["scopes"] == ["read"]
        assert listed["last_used_at"] is None  # "never" in the dashboard
        assert listed["expires_at"] == created["expires_at"]
        assert client.get("/api/runs", headers=bearer(created)).status_code == 200
        (used,) = client.get("/api/auth/api-keys", headers=alice).json()
        used_at = dt.datetime.fromisoformat(used["last_used_at"])
        assert abs(used_at - _now()) < dt.timedelta(minutes=1)


@pytest.fixture
def trade_id(client: TestClient, alice: dict[str, str], alice_key: dict[str, str]) -> int:
    """One closed trade of alice's, with notes a key might try to overwrite."""
    push(client, alice_key, batch(CONTRACT_EVENTS))
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    (trade,) = client.get("/api/trades", headers=alice).json()["items"]
    client.patch(f"/api/trades/{trade['id']}", json={"notes": "mine"}, headers=alice)
    return int(trade["id"])


class TestAnIngestOnlyKey:
    """A leaked exporter key (ingest only) pushes, and reads or changes nothing."""

    def test_cannot_read_trades_runs_or_anything_else(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        leaked = bearer(new_key(client, alice))
        for path in ("/api/trades", f"/api/trades/{trade_id}", "/api/runs", "/api/runs/1/trades",
                     "/api/runs/1/metrics", "/api/instruments", "/api/auth/me"):  # fmt: skip
            response = client.get(path, headers=leaked)
            assert refused_for(response, "read"), (path, response.text)
            assert "MESZ3" not in response.text

    def test_cannot_edit_a_trade_or_export_the_journal(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        leaked = bearer(new_key(client, alice))
        response = client.patch(f"/api/trades/{trade_id}", json={"notes": "pwned"}, headers=leaked)
        assert refused_for(response, "write:journal")
        assert refused_for(client.get("/api/export", headers=leaked), "export")
        assert client.get(f"/api/trades/{trade_id}", headers=alice).json()["notes"] == "mine"

    def test_cannot_launch_a_backtest_or_send_its_upload(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        """Refused before the upload is read: the body is never asked for."""
        leaked = bearer(new_key(client, alice))
        sent: list[bytes] = []

        def upload() -> Iterator[bytes]:
            for _ in range(64):
                sent.append(b"x" * 65536)
                yield sent[-1]

        response = client.post("/api/backtests", content=upload(), headers={
            **leaked, "Content-Type": "multipart/form-data; boundary=xyz"})  # fmt: skip
        assert refused_for(response, "backtests"), response.text
        assert sent == []
        assert client.get("/api/backtests", headers=alice).json() == []

    def test_a_read_key_cannot_edit_either_but_a_journal_key_can(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        reader = bearer(new_key(client, alice, scopes=["read"]))
        response = client.patch(f"/api/trades/{trade_id}", json={"notes": "x"}, headers=reader)
        assert refused_for(response, "write:journal")
        writer = bearer(new_key(client, alice, scopes=["write:journal"]))
        response = client.patch(f"/api/trades/{trade_id}", json={"notes": "by key"}, headers=writer)
        assert response.status_code == 200, response.text
        assert client.get(f"/api/trades/{trade_id}", headers=alice).json()["notes"] == "by key"


class TestAnExpiredKey:
    def test_is_refused_with_401_naming_its_expiry(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        created = new_key(client, alice, scopes=["ingest", "read"], expires_in_days=1)
        assert client.get("/api/runs", headers=bearer(created)).status_code == 200
        expired_at = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
        context = client.app.state.context  # type: ignore[attr-defined]
        with context.db.session(write=True) as session:  # a day later, as it were
            session.execute(update(ApiKey).values(expires_at=expired_at))
        for response in (client.get("/api/runs", headers=bearer(created)),
                         client.post("/api/ingest", json=batch(CONTRACT_EVENTS), headers=bearer(created))):  # fmt: skip
            assert response.status_code == 401
            assert response.json() == {
                "error": "not_authenticated",
                "detail": "invalid API key: it expired at 2024-05-06T07:08:09Z; create a new one",
            }
