from __future__ import annotations

import msgpack
import orjson
from fastapi.testclient import TestClient

from tests.ingest.helpers import CONTRACT_EVENTS, batch, fill, push

T0 = "2023-12-15T14:30:00Z"


def _post(client: TestClient, headers: dict[str, str], content: bytes, kind: str) -> object:
    return client.post("/api/ingest", content=content, headers={**headers, "Content-Type": kind})


class TestEnvelope:
    def test_unauthenticated_or_bad_key_is_401(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        assert client.post("/api/ingest", json=batch(CONTRACT_EVENTS)).status_code == 401
        bad = {"Authorization": "Bearer fb_not-a-real-key"}
        response = client.post("/api/ingest", json=batch(CONTRACT_EVENTS), headers=bad)
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid API key: unknown or revoked"

    def test_unparseable_body_is_400(self, client: TestClient, alice_key: dict[str, str]) -> None:
        response = client.post(
            "/api/ingest",
            content=b'{"source": ',
            headers={**alice_key, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["detail"].startswith("the body is not valid JSON")
        response = client.post(
            "/api/ingest",
            content=b"\xc1",
            headers={**alice_key, "Content-Type": "application/msgpack"},
        )
        assert response.status_code == 400
        assert response.json()["detail"].startswith("the body is not valid MessagePack")

    def test_other_content_type_is_415(self, client: TestClient, alice_key: dict[str, str]) -> None:
        response = client.post(
            "/api/ingest", content=b"source=x", headers={**alice_key, "Content-Type": "text/plain"}
        )
        assert response.status_code == 415
        assert response.json() == {
            "error": "unsupported_media_type",
            "detail": "Content-Type must be application/json or application/msgpack, got 'text/plain'",
        }

    def test_invalid_envelope_is_422_naming_the_fields(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        cases = {
            "source: is required": {
                "run": {"key": "k", "strategy": "s", "mode": "live"},
                "events": [],
            },
            "run.key: is required": {
                "source": "s",
                "run": {"strategy": "s", "mode": "live"},
                "events": [],
            },
            "events: must be a list, got dict": {
                "source": "s",
                "run": {"key": "k", "strategy": "s", "mode": "live"},
                "events": {},
            },
            "run.mode: must be 'live', 'paper' or 'backtest'": {
                "source": "s",
                "run": {"key": "k", "strategy": "s", "mode": "sim"},
                "events": [],
            },
        }
        for expected, body in cases.items():
            response = client.post("/api/ingest", json=body, headers=alice_key)
            assert response.status_code == 422, body
            assert response.json()["error"] == "invalid_payload"
            assert expected in response.json()["detail"], response.json()
        response = client.post("/api/ingest", json=[1, 2], headers=alice_key)
        assert response.status_code == 422
        assert "must be an object with source, run and events" in response.json()["detail"]

    def test_too_many_events_is_413(self, client: TestClient, alice_key: dict[str, str]) -> None:
        events = [{"type": "run_end", "ts": T0}] * 10_001
        response = client.post("/api/ingest", json=batch(events), headers=alice_key)
        assert response.status_code == 413
        assert response.json()["detail"] == "events: at most 10000 events per batch, got 10001"

    def test_body_over_16_mib_is_413(self, client: TestClient, alice_key: dict[str, str]) -> None:
        body = orjson.dumps(batch([])) + b" " * (16 * 1024 * 1024)
        response = _post(client, alice_key, body, "application/json")
        assert response.status_code == 413  # type: ignore[attr-defined]
        assert "at most 16777216" in response.json()["detail"]  # type: ignore[attr-defined]

    def test_a_batch_at_the_limits_is_stored_whole(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = [
            fill(
                f"x-{i}",
                f"2023-12-15T14:30:{i % 60:02d}.{i:06d}Z",
                "buy" if i % 2 else "sell",
                1,
                4700.25,
            )
            for i in range(10_000)
        ]
        assert push(client, alice_key, batch(events)) == {
            "run_id": 1,
            "accepted": 10_000,
            "duplicates": 0,
            "rejected": [],
        }
        page = client.get("/api/runs/1", headers=alice_key).json()
        assert page["execution_count"] == 10_000


class TestEncodings:
    def test_messagepack_is_the_same_document(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        body = msgpack.packb(batch(CONTRACT_EVENTS))
        response = _post(client, alice_key, body, "application/msgpack")
        assert response.json() == {  # type: ignore[attr-defined]
            "run_id": 1,
            "accepted": 5,
            "duplicates": 0,
            "rejected": [],
        }
        # the same events in JSON are duplicates of the MessagePack ones
        assert push(client, alice_key, batch(CONTRACT_EVENTS))["duplicates"] == 5

    def test_messagepack_with_integer_ns_times(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        event = {
            "type": "execution",
            "id": "x1",
            "ts": 1702650601003000000,
            "symbol": "ES",
            "side": "sell",
            "qty": 1,
            "price": 4700.5,
        }
        response = _post(client, alice_key, msgpack.packb(batch([event])), "application/msgpack")
        assert response.json()["accepted"] == 1  # type: ignore[attr-defined]
        fills = client.get("/api/runs/1/executions", headers=alice_key).json()["items"]
        assert fills[0]["ts"] == "2023-12-15T14:30:01.003Z"
