"""Paging a trade list sorted by a column some trades lack (no bars: no MFE/MAE)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ingest.helpers import batch, fill, push


class TestPagingPastMissingValues:
    def test_every_trade_once_when_pages_end_among_missing_values(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = []
        for i in range(7):
            minute = f"2023-12-15T14:{i:02d}:00Z"
            events += [fill(f"o{i}", minute, "buy", 1, 100), fill(f"c{i}", minute[:-3] + "30Z", "sell", 1, 101)]
        push(client, alice_key, batch(events))
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        for sort in ("mae", "-mae", "r_multiple", "-mfe"):
            seen: list[int] = []
            cursor = ""
            for _ in range(10):
                response = client.get(f"/api/trades?sort={sort}&limit=3{cursor}", headers=alice_key)
                assert response.status_code == 200, (sort, response.text)
                page = response.json()
                assert all(t[sort.lstrip("-")] is None for t in page["items"])
                seen += [t["id"] for t in page["items"]]
                if not page["next_cursor"]:
                    break
                cursor = f"&cursor={page['next_cursor']}"
            every = client.get(f"/api/trades?sort={sort}&limit=100", headers=alice_key).json()
            assert seen == [t["id"] for t in every["items"]], sort
            assert len(set(seen)) == 7, sort
