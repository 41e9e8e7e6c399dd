from __future__ import annotations

import datetime as dt

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from starlette.testclient import WebSocketTestSession
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from backend.db.models import ApiKey, StreamTicket
from backend.stream import router as stream_router
from tests.conftest import create_api_key
from tests.ingest.helpers import CONTRACT_EVENTS, batch, fill, push


class TestStream:
    def test_ingest_and_derivations_reach_the_users_clients(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        token = alice["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json() == {"type": "hello", "user_id": 1}
            push(client, alice_key, batch(CONTRACT_EVENTS))
            assert socket.receive_json() == {
                "type": "ingested", "run_id": 1, "accepted": 5, "duplicates": 0, "rejected": 0,
                "symbols": ["MESZ3"], "run_ended": True,
            }  # fmt: skip
            assert socket.receive_json() == {
                "type": "position_derived", "run_id": 1, "account": "", "symbol": "MESZ3",
                "from_ts": "2023-12-15T14:30:01.003Z",
            }  # fmt: skip

    def test_other_users_updates_are_not_sent(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        token = bob["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(
            "/api/stream", headers={"Authorization": f"Bearer {token}"}
        ) as socket:
            assert socket.receive_json()["user_id"] == 2
            push(client, alice_key, batch([fill("x1", "2023-12-15T14:30:00Z", "buy", 1, 1.0)]))
            client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
            socket.send_text("ping")  # nothing for bob is queued: close cleanly
        assert client.app.state.context.broker.client_count() == 0  # type: ignore[attr-defined]

    def test_bad_credentials_are_refused(self, client: TestClient, alice: dict[str, str]) -> None:
        for url in ("/api/stream", "/api/stream?token=garbage"):
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect(url) as socket,
            ):
                socket.receive_json()
            assert refused.value.code == 4401


def closed_with(socket: WebSocketTestSession, within: float = 5.0) -> tuple[int, str]:
    """Wait at most `within` s for the server to close `socket`: the code and the reason.
    (A plain `receive` would wait forever if the stream stayed open.)"""

    async def wait() -> Message:
        with anyio.fail_after(within):
            while True:
                message: Message = await socket._send_rx.receive()
                if message["type"] == "websocket.close":
                    return message

    message = socket.portal.call(wait)
    return int(message.get("code", 1000)), str(message.get("reason", ""))


def key_of(client: TestClient, owner: dict[str, str], scopes: tuple[str, ...]) -> tuple[int, str]:
    """A new key of `owner`'s with `scopes`: its id and secret."""
    response = client.post(
        "/api/auth/api-keys", json={"name": "stream", "scopes": list(scopes)}, headers=owner
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), str(response.json()["key"])


def refusal(client: TestClient, url: str) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url) as socket:
        socket.receive_json()
    return refused.value.code, refused.value.reason


class TestStreamTickets:
    def test_a_ticket_opens_one_stream_for_its_user(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        before = dt.datetime.now(dt.UTC)
        response = client.post("/api/stream/ticket", headers=bob)
        after = dt.datetime.now(dt.UTC)
        assert response.status_code == 201, response.text
        ticket = response.json()["ticket"]
        assert ticket.startswith("st_")
        # 60 s from when the server issued it, somewhere between `before` and `after`
        # (a loaded machine can take seconds to answer: that is not the ticket's lifetime).
        expires_at = dt.datetime.fromisoformat(response.json()["expires_at"])
        second = dt.timedelta(seconds=1)
        assert before + 60 * second - second <= expires_at <= after + 60 * second + second
        with client.websocket_connect(f"/api/stream?ticket={ticket}") as socket:
            assert socket.receive_json() == {"type": "hello", "user_id": 2}
        code, reason = refusal(client, f"/api/stream?ticket={ticket}")  # used up
        assert code == 4401
        assert "invalid stream ticket" in reason

    def test_an_expired_or_made_up_ticket_is_refused(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        ticket = client.post("/api/stream/ticket", headers=alice).json()["ticket"]
        context = client.app.state.context  # type: ignore[attr-defined]
        with context.db.session(write=True) as session:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            session.execute(update(StreamTicket).values(expires_at=past))
        for url in (f"/api/stream?ticket={ticket}", "/api/stream?ticket=st_made-up"):
            assert refusal(client, url)[0] == 4401
        with context.db.session() as session:  # redeeming an expired ticket deletes it too
            assert session.scalars(select(StreamTicket)).all() == []

    def test_a_ticket_needs_a_credential_with_read(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        assert client.post("/api/stream/ticket").status_code == 401
        _, ingest_only = key_of(client, alice, ("ingest",))
        response = client.post("/api/stream/ticket", headers={"Authorization": f"Bearer {ingest_only}"})
        assert response.status_code == 403
        assert "lacks the 'read' scope" in response.json()["detail"]

    def test_a_keys_ticket_stream_closes_when_the_key_is_revoked(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        key_id, secret = key_of(client, alice, ("read",))
        ticket = client.post(
            "/api/stream/ticket", headers={"Authorization": f"Bearer {secret}"}
        ).json()["ticket"]
        with client.websocket_connect(f"/api/stream?ticket={ticket}") as socket:
            assert socket.receive_json()["type"] == "hello"
            assert client.delete(f"/api/auth/api-keys/{key_id}", headers=alice).status_code == 204
            assert closed_with(socket) == (4401, "closed: the API key was revoked")


class TestStreamClosing:
    """Open streams end when what opened them stops holding."""

    @pytest.fixture(autouse=True)
    def _slow_periodic_check(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Revocations through the API must close streams at once, not at the next check.
        monkeypatch.setattr(stream_router, "RECHECK_SECONDS", 60.0)

    def test_a_revoked_keys_open_stream_is_closed(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        key_id, secret = key_of(client, alice, ("ingest", "read"))
        with client.websocket_connect(f"/api/stream?token={secret}") as socket:
            assert socket.receive_json() == {"type": "hello", "user_id": 1}
            assert client.delete(f"/api/auth/api-keys/{key_id}", headers=alice).status_code == 204
            assert closed_with(socket, within=2.0) == (4401, "closed: the API key was revoked")
        assert client.app.state.context.broker.client_count() == 0  # type: ignore[attr-defined]

    def test_other_keys_streams_stay_open(self, client: TestClient, alice: dict[str, str]) -> None:
        revoked, _ = key_of(client, alice, ("read",))
        _, kept = key_of(client, alice, ("read",))
        with client.websocket_connect(f"/api/stream?token={kept}") as socket:
            socket.receive_json()
            client.delete(f"/api/auth/api-keys/{revoked}", headers=alice)
            push(client, {"Authorization": f"Bearer {create_api_key(client, alice)}"},
                 batch([fill("x1", "2023-12-15T14:30:00Z", "buy", 1, 1.0)]))  # fmt: skip
            assert socket.receive_json()["type"] == "ingested"  # still open, still served

    def test_a_deactivated_users_stream_is_closed(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        token = bob["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json()["user_id"] == 2
            response = client.patch("/api/admin/users/2", json={"is_active": False}, headers=alice)
            assert response.status_code == 200
            assert closed_with(socket, within=2.0) == (4401, "closed: the user was deactivated")

    def test_a_key_revoked_behind_the_apis_back_is_closed_by_the_periodic_check(
        self, client: TestClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(stream_router, "RECHECK_SECONDS", 0.2)
        key_id, secret = key_of(client, alice, ("read",))
        with client.websocket_connect(f"/api/stream?token={secret}") as socket:
            socket.receive_json()
            context = client.app.state.context  # type: ignore[attr-defined]
            with context.db.session(write=True) as session:  # no announcement
                session.execute(
                    update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=dt.datetime.now(dt.UTC))
                )
            assert closed_with(socket, within=2.0) == (4401, "closed: the API key was revoked")

    def test_a_stream_closes_when_its_access_token_expires(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        tokens = client.app.state.context.tokens  # type: ignore[attr-defined]
        # Issued so that it expires in about a second (a JWT's exp is in whole seconds).
        issued = dt.datetime.now(dt.UTC) - tokens.lifetime + dt.timedelta(seconds=1.5)
        token = tokens.encode(1, now=issued)
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json()["type"] == "hello"
            code, reason = closed_with(socket, within=3.0)
        assert code == 4401
        assert reason.startswith("closed: the access token expired at ")
