from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import create_api_key
from tests.ingest.helpers import RUN, batch, fill, push


def _fills(n: int) -> list[dict[str, object]]:
    return [
        fill(f"x{i}", f"2023-12-15T14:{30 + i // 10:02d}:{i % 10:02d}Z", "buy" if i % 2 == 0 else "sell",
             1, 4700 + i, symbol="MESZ3" if i % 3 else "ESZ3")
        for i in range(n)
    ]  # fmt: skip


class TestFilters:
    def test_symbol_side_and_time_range(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(_fills(30)))
        url = "/api/runs/1/executions?symbol=ESZ3&side=buy&start=2023-12-15T14:30:05Z&end=2023-12-15T14:32:00Z"
        ids = [f["id"] for f in client.get(url, headers=alice_key).json()["items"]]
        assert ids == ["x6", "x12", "x18"]
        ns = client.get(
            "/api/runs/1/executions?start=1702650610000000000&limit=2", headers=alice_key
        )
        assert [f["id"] for f in ns.json()["items"]] == ["x10", "x11"]

    def test_bad_time_or_cursor_is_422(self, client: TestClient, alice_key: dict[str, str]) -> None:
        push(client, alice_key, batch(_fills(1)))
        naive = client.get("/api/runs/1/executions?start=2023-12-15T14:30:00", headers=alice_key)
        assert naive.status_code == 422
        assert naive.json()["detail"].startswith("start: '2023-12-15T14:30:00' has no UTC offset")
        cursor = client.get("/api/runs/1/executions?cursor=garbage", headers=alice_key)
        assert cursor.status_code == 422
        assert cursor.json()["detail"] == "cursor: not a cursor this API returned"


class TestPagination:
    def test_cursor_walks_every_fill_once_in_time_then_arrival_order(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = _fills(25)
        same_time = "2023-12-15T14:30:00Z"  # equal times: arrival order decides
        events += [fill(f"tie{i}", same_time, "buy", 1, 1.0) for i in range(3)]
        push(client, alice_key, batch(events))
        seen: list[str] = []
        url = "/api/runs/1/executions?limit=4"
        while url:
            page = client.get(url, headers=alice_key).json()
            seen += [f["id"] for f in page["items"]]
            url = (
                f"/api/runs/1/executions?limit=4&cursor={page['next_cursor']}"
                if page["next_cursor"]
                else ""
            )
        assert seen == ["x0", "tie0", "tie1", "tie2"] + [f"x{i}" for i in range(1, 25)]

    def test_runs_are_paged_newest_first(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        for i in range(5):
            push(client, alice_key, batch([], run={**RUN, "key": f"r{i}"}))
        first = client.get("/api/runs?limit=2", headers=alice_key).json()
        second = client.get(
            f"/api/runs?limit=2&cursor={first['next_cursor']}", headers=alice_key
        ).json()
        third = client.get(
            f"/api/runs?limit=2&cursor={second['next_cursor']}", headers=alice_key
        ).json()
        assert [r["key"] for r in first["items"] + second["items"] + third["items"]] == [
            "r4",
            "r3",
            "r2",
            "r1",
            "r0",
        ]
        assert third["next_cursor"] is None

    def test_runs_filter_by_mode_and_strategy(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([], run={**RUN, "key": "bt", "mode": "backtest"}))
        push(client, alice_key, batch([], run={**RUN, "key": "live", "strategy": "Other"}))
        only = client.get("/api/runs?mode=backtest", headers=alice_key).json()["items"]
        assert [r["key"] for r in only] == ["bt"]
        other = client.get("/api/runs?strategy=Other", headers=alice_key).json()["items"]
        assert [r["key"] for r in other] == ["live"]


class TestIsolation:
    def test_another_users_data_is_not_found(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        push(
            client,
            alice_key,
            batch(_fills(3) + [{"type": "instrument", "symbol": "MESZ3"}, {"type": "nope"}]),
        )
        bob_key = {"Authorization": f"Bearer {create_api_key(client, bob)}"}
        for headers in (bob, bob_key):
            for path in (
                "/api/runs/1",
                "/api/runs/1/executions",
                "/api/runs/1/orders",
                "/api/runs/1/orders/o-1",
            ):
                response = client.get(path, headers=headers)
                assert response.status_code == 404, path
                assert response.json() == {"error": "not_found", "detail": "run 1 not found"}
            assert client.get("/api/runs", headers=headers).json()["items"] == []
            assert client.get("/api/instruments", headers=headers).json() == []
            assert client.get("/api/rejected-events", headers=headers).json()["items"] == []
        # the same run key from bob is bob's own run, separate from alice's
        assert push(client, bob_key, batch(_fills(3)))["accepted"] == 3
        assert client.get("/api/runs/2/executions", headers=bob).json()["items"][0]["id"] == "x0"

    def test_reads_need_credentials(self, client: TestClient) -> None:
        for path in ("/api/runs", "/api/runs/1", "/api/instruments", "/api/rejected-events"):
            assert client.get(path).status_code == 401
