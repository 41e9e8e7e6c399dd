from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ingest.helpers import CONTRACT_EVENTS, batch, fill, push


class TestTradeUpdatedEvent:
    def test_a_journal_edit_reaches_the_users_live_clients(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        events = [*CONTRACT_EVENTS[:-1], fill("x-2", "2023-12-15T14:40:00Z", "sell", 2, 4702.0)]
        push(client, alice_key, batch(events))
        client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        trade = client.get("/api/trades", headers=alice).json()["items"][0]
        token = alice["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json()["type"] == "hello"
            response = client.patch(
                f"/api/trades/{trade['id']}", json={"notes": "late entry"}, headers=alice
            )
            assert response.status_code == 200, response.text
            assert socket.receive_json() == {
                "type": "trade_updated", "trade_id": trade["id"], "run_id": trade["run_id"],
            }  # fmt: skip
            # Published after the commit: a client reading on the event sees the edit.
            notes = client.get(f"/api/trades/{trade['id']}", headers=alice).json()["notes"]
            assert notes == "late entry"

    def test_a_refused_edit_is_not_announced(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        token = alice["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json()["type"] == "hello"
            response = client.patch("/api/trades/999", json={"notes": "x"}, headers=alice)
            assert response.status_code == 404
            push(client, alice_key, batch(CONTRACT_EVENTS))
            assert socket.receive_json()["type"] == "ingested"  # nothing came before it
