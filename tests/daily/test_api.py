"""The daily journal over HTTP: days in the user's zone, entries, the template, ownership."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.playbooks.helpers import MOVES_A, MOVES_B, Runs, get, net


def _tokyo(client: TestClient, headers: dict[str, str]) -> None:
    response = client.patch("/api/auth/me", json={"timezone": "Asia/Tokyo"}, headers=headers)
    assert response.status_code == 200, response.text


def _put(client: TestClient, headers: dict[str, str], day: str, body: dict[str, Any]) -> Any:
    response = client.put(f"/api/journal/days/{day}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestDailyJournal:
    def test_trades_belong_to_the_day_of_their_entry_in_the_users_zone(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        # in UTC every trade entered on the 15th
        days = get(client, alice, "/api/journal/days?from=2023-12-01&to=2023-12-31")
        assert [(d["day"], d["trades"]) for d in days] == [("2023-12-15", 8)]
        _tokyo(client, alice)  # UTC+9: run A (14:xxZ) is the 15th, run B (15:xxZ) the 16th
        days = get(client, alice, "/api/journal/days?from=2023-12-01&to=2023-12-31")
        assert days == [
            {"day": "2023-12-15", "has_entry": False, "mood": None, "discipline": None,
             "trades": 6, "net_pnl": float(sum(net(m) for m in MOVES_A))},
            {"day": "2023-12-16", "has_entry": False, "mood": None, "discipline": None,
             "trades": 2, "net_pnl": float(sum(net(m) for m in MOVES_B))},
        ]  # fmt: skip
        day = get(client, alice, "/api/journal/days/2023-12-16")
        assert [t["id"] for t in day["trades"]] == runs.b
        assert (day["trade_count"], day["net_pnl"], day["exists"]) == (
            2, float(sum(net(m) for m in MOVES_B)), False,
        )  # fmt: skip
        assert day["trades"][0]["review_state"] == "new"

    def test_entries_template_and_delete(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        assert get(client, alice, "/api/journal/template") == {"template": ""}
        template = "## Plan\n- levels:\n- news:"
        response = client.put("/api/journal/template", json={"template": template}, headers=alice)
        assert response.json() == {"template": template}
        empty = get(client, alice, "/api/journal/days/2023-12-15")
        assert (empty["exists"], empty["plan"], empty["review"], empty["updated_at"]) == (
            False, template, "", None,
        )  # fmt: skip
        written = _put(client, alice, "2023-12-15", {"review": "Chased the **open**.", "mood": 2})
        assert (written["exists"], written["plan"], written["review"], written["mood"],
                written["discipline"]) == (True, template, "Chased the **open**.", 2, None)  # fmt: skip
        assert written["updated_at"] is not None
        assert len(written["trades"]) == 8
        again = _put(client, alice, "2023-12-15", {"plan": "<script>x</script>", "discipline": 4,
                                                   "mood": None})  # fmt: skip
        assert (again["plan"], again["review"], again["mood"], again["discipline"]) == (
            "<script>x</script>", "Chased the **open**.", None, 4,
        )  # fmt: skip
        days = get(client, alice, "/api/journal/days?from=2023-12-14&to=2023-12-20")
        assert [(d["day"], d["has_entry"], d["discipline"]) for d in days] == [
            ("2023-12-15", True, 4)
        ]
        _put(client, alice, "2023-12-18", {"review": "no trades today"})
        days = get(client, alice, "/api/journal/days?from=2023-12-14&to=2023-12-20")
        assert [(d["day"], d["trades"], d["has_entry"]) for d in days] == [
            ("2023-12-15", 8, True), ("2023-12-18", 0, True),
        ]  # fmt: skip
        assert client.delete("/api/journal/days/2023-12-15", headers=alice).status_code == 204
        assert get(client, alice, "/api/journal/days/2023-12-15")["exists"] is False
        assert client.delete("/api/journal/days/2023-12-15", headers=alice).status_code == 404

    def test_bad_input_is_refused_naming_the_field(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        def refused(method: str, url: str, body: dict[str, Any] | None = None) -> str:
            response = client.request(method, url, json=body, headers=alice)
            assert response.status_code == 422, response.text
            return str(response.text)

        assert "day: must be a day as YYYY-MM-DD, got '2023-02-30'" in refused(
            "GET", "/api/journal/days/2023-02-30"
        )
        assert "to: must not be before from" in refused(
            "GET", "/api/journal/days?from=2023-12-02&to=2023-12-01"
        )
        assert "to: at most 400 days at once, got 401" in refused(
            "GET", "/api/journal/days?from=2023-01-01&to=2024-02-05"
        )
        assert "mood" in refused("PUT", "/api/journal/days/2023-12-01", {"mood": 6})
        assert "discipline" in refused("PUT", "/api/journal/days/2023-12-01", {"discipline": 0})
        assert "review" in refused("PUT", "/api/journal/days/2023-12-01", {"review": "x" * 20_001})
        assert "plan: must be text, not null" in refused(
            "PUT", "/api/journal/days/2023-12-01", {"plan": None}
        )
        assert "template" in refused("PUT", "/api/journal/template", {"template": "x" * 20_001})

    def test_one_user_never_sees_anothers_days(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str], runs: Runs
    ) -> None:
        _put(client, alice, "2023-12-15", {"review": "alice's"})
        client.put("/api/journal/template", json={"template": "alice's plan"}, headers=alice)
        assert get(client, bob, "/api/journal/days?from=2023-12-01&to=2023-12-31") == []
        day = get(client, bob, "/api/journal/days/2023-12-15")
        assert (day["exists"], day["review"], day["plan"], day["trades"]) == (False, "", "", [])
        assert client.delete("/api/journal/days/2023-12-15", headers=bob).status_code == 404
        assert get(client, alice, "/api/journal/days/2023-12-15")["review"] == "alice's"
        assert client.get("/api/journal/days/2023-12-15").status_code == 401
