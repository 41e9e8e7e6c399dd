from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

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
