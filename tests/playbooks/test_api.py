"""Playbooks, rules, mistakes and trade journals over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.ingest.helpers import batch, fill, push
from tests.playbooks.helpers import STRATEGY_A, Runs, get

ORB: dict[str, Any] = {
    "name": "Opening range breakout",
    "description": "Break of the first 15 minutes' range.",
    "conditions": "Trend days, volume above average",
    "rules": [{"text": "entry on a retest"}, {"text": "stop below the swing low"},
              {"text": "no trade in the first 5 minutes"}],
}  # fmt: skip


def create(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/playbooks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def put_journal(
    client: TestClient, headers: dict[str, str], trade_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    response = client.put(f"/api/trades/{trade_id}/journal", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


class TestPlaybooks:
    def test_create_read_update_delete(self, client: TestClient, alice: dict[str, str]) -> None:
        made = create(client, alice, ORB)
        assert [(r["text"], r["position"]) for r in made["rules"]] == [
            ("entry on a retest", 0), ("stop below the swing low", 1),
            ("no trade in the first 5 minutes", 2),
        ]  # fmt: skip
        assert (made["name"], made["conditions"], made["strategy"], made["trades"],
                made["adherence"]) == (ORB["name"], ORB["conditions"], None, 0, None)  # fmt: skip
        assert get(client, alice, f"/api/playbooks/{made['id']}") == made
        assert get(client, alice, "/api/playbooks") == [made]
        retest, stop, first5 = (r["id"] for r in made["rules"])
        response = client.patch(f"/api/playbooks/{made['id']}", headers=alice, json={
            "name": "ORB", "rules": [{"id": first5, "text": "no trade in the first 5 min"},
                                     {"text": "target the range's height"}, {"id": retest,
                                     "text": "entry on a retest"}],
        })  # fmt: skip
        assert response.status_code == 200, response.text
        patched = response.json()
        assert patched["name"] == "ORB"
        assert patched["description"] == ORB["description"]
        rules = [(r["id"], r["text"], r["position"]) for r in patched["rules"]]
        assert rules[0] == (first5, "no trade in the first 5 min", 0)
        assert rules[1][1:] == ("target the range's height", 1)
        assert rules[1][0] not in (stop,)
        assert rules[2] == (retest, "entry on a retest", 2)
        assert client.delete(f"/api/playbooks/{made['id']}", headers=alice).status_code == 204
        assert client.get(f"/api/playbooks/{made['id']}", headers=alice).status_code == 404
        assert get(client, alice, "/api/playbooks") == []

    def test_names_and_strategies_are_unique_per_user(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        create(client, alice, {"name": "ORB", "strategy": STRATEGY_A})
        again = client.post("/api/playbooks", json={"name": "ORB"}, headers=alice)
        assert again.status_code == 409
        assert again.json()["detail"].startswith("name: a playbook named 'ORB' exists already")
        same = client.post(
            "/api/playbooks", json={"name": "Other", "strategy": STRATEGY_A}, headers=alice
        )
        assert same.status_code == 409
        assert "already the default of strategy 'Stacked Imbalance'" in same.json()["detail"]
        create(client, bob, {"name": "ORB", "strategy": STRATEGY_A})  # bob's own

    def test_bad_input_is_refused_naming_the_field(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        def post(body: dict[str, Any]) -> Any:
            response = client.post("/api/playbooks", json=body, headers=alice)
            assert response.status_code == 422, response.text
            return response.json()

        assert "name" in str(post({"name": ""}))
        assert "rules" in str(post({"name": "x", "rules": [{"text": "r"}] * 51}))
        assert "text" in str(post({"name": "x", "rules": [{"text": "r" * 301}]}))
        assert "description" in str(post({"name": "x", "description": "d" * 10_001}))
        assert post({"name": "x", "rules": [{"id": 7, "text": "r"}]})["detail"] == (
            "rules: a new playbook's rules cannot carry an id"
        )
        made = create(client, alice, {"name": "x"})
        response = client.patch(
            f"/api/playbooks/{made['id']}", json={"rules": [{"id": 999999, "text": "r"}]},
            headers=alice,
        )  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"] == (
            f"rules: rule id 999999 is not a rule of playbook {made['id']}"
        )
        response = client.patch(f"/api/playbooks/{made['id']}", json={"name": None}, headers=alice)
        assert (response.status_code, response.json()["detail"]) == (422, "name: must not be null")

    def test_another_users_playbook_is_not_found(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str]
    ) -> None:
        made = create(client, alice, ORB)
        url = f"/api/playbooks/{made['id']}"
        assert client.get(url, headers=bob).status_code == 404
        assert client.patch(url, json={"name": "mine"}, headers=bob).status_code == 404
        assert client.delete(url, headers=bob).status_code == 404
        assert client.get(f"{url}/analytics", headers=bob).status_code == 404
        assert get(client, bob, "/api/playbooks") == []
        assert get(client, alice, url)["name"] == ORB["name"]

    def test_reading_needs_a_credential_and_writing_the_journal_scope(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        assert client.get("/api/playbooks").status_code == 401
        assert client.get("/api/playbooks", headers=alice_key).status_code == 200
        assert client.post("/api/playbooks", json=ORB, headers=alice_key).status_code == 403
        assert (
            client.post("/api/mistakes", json={"name": "x"}, headers=alice_key).status_code == 403
        )


class TestTradeJournal:
    def test_the_strategys_playbook_applies_unless_one_is_assigned_by_hand(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
        other = create(client, alice, {"name": "Scalp", "rules": [{"text": "1 lot"}]})
        journal = get(client, alice, f"/api/trades/{runs.a[0]}")["journal"]
        assert (journal["playbook_id"], journal["playbook_source"], journal["review_state"],
                journal["adherence"]) == (orb["id"], "strategy", "new", None)  # fmt: skip
        assert [(r["text"], r["followed"]) for r in journal["rules"]] == [
            (r["text"], None) for r in ORB["rules"]
        ]
        assert get(client, alice, f"/api/trades/{runs.b[0]}")["journal"]["playbook_id"] is None
        assert get(client, alice, f"/api/playbooks/{orb['id']}")["trades"] == 6
        manual = put_journal(client, alice, runs.a[0], {"playbook_id": other["id"]})
        assert (manual["playbook_id"], manual["playbook_source"]) == (other["id"], "manual")
        assert [r["text"] for r in manual["rules"]] == ["1 lot"]
        counts = {p["name"]: p["trades"] for p in get(client, alice, "/api/playbooks")}
        assert counts == {ORB["name"]: 5, "Scalp": 1}
        back = put_journal(client, alice, runs.a[0], {"playbook_id": None})
        assert (back["playbook_id"], back["playbook_source"]) == (orb["id"], "strategy")
        # a strategy's default follows the playbook's field as soon as it changes
        client.patch(f"/api/playbooks/{orb['id']}", json={"strategy": None}, headers=alice)
        assert get(client, alice, f"/api/trades/{runs.a[1]}")["journal"]["playbook_id"] is None

    def test_ticks_adherence_and_deleted_rules(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
        r1, r2, r3 = (r["id"] for r in orb["rules"])
        one = put_journal(client, alice, runs.a[0], {"rules": [
            {"rule_id": r1, "followed": True}, {"rule_id": r2, "followed": True},
            {"rule_id": r3, "followed": False}]})  # fmt: skip
        assert [r["followed"] for r in one["rules"]] == [True, True, False]
        assert one["adherence"] == 2 / 3
        two = put_journal(client, alice, runs.a[1], {"rules": [{"rule_id": r3, "followed": False}]})
        assert two["adherence"] == 0.0
        assert get(client, alice, f"/api/playbooks/{orb['id']}")["adherence"] == (2 / 3 + 0) / 2
        untick = put_journal(
            client, alice, runs.a[1], {"rules": [{"rule_id": r3, "followed": None}]}
        )
        assert (untick["adherence"], [r["followed"] for r in untick["rules"]]) == (
            None, [None, None, None],
        )  # fmt: skip
        assert get(client, alice, f"/api/playbooks/{orb['id']}")["adherence"] == 2 / 3
        # r3 deleted from the checklist: its ticks go with it, the others keep theirs
        client.patch(f"/api/playbooks/{orb['id']}", headers=alice, json={"rules": [
            {"id": r1, "text": "entry on a retest"}, {"id": r2, "text": "stop below"}]})  # fmt: skip
        kept = get(client, alice, f"/api/trades/{runs.a[0]}")["journal"]
        assert [(r["rule_id"], r["followed"]) for r in kept["rules"]] == [(r1, True), (r2, True)]
        assert kept["adherence"] == 1.0

    def test_a_rule_of_another_playbook_is_refused_naming_it(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
        scalp = create(client, alice, {"name": "Scalp", "rules": [{"text": "1 lot"}]})
        foreign = scalp["rules"][0]["id"]
        response = client.put(f"/api/trades/{runs.a[0]}/journal", headers=alice,
                              json={"rules": [{"rule_id": foreign, "followed": True}]})  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"] == (
            f"rules: rule {foreign} is not a rule of the trade's playbook ({orb['id']})"
        )
        response = client.put(f"/api/trades/{runs.b[0]}/journal", headers=alice,
                              json={"rules": [{"rule_id": foreign, "followed": True}]})  # fmt: skip
        assert response.json()["detail"] == (
            f"rules: rule {foreign} is not a rule of the trade's playbook (it has none)"
        )
        # switching playbook drops the ticks of the old one's rules
        put_journal(client, alice, runs.a[0], {"rules": [
            {"rule_id": orb["rules"][0]["id"], "followed": True}]})  # fmt: skip
        switched = put_journal(
            client,
            alice,
            runs.a[0],
            {"playbook_id": scalp["id"], "rules": [{"rule_id": foreign, "followed": False}]},
        )
        assert (switched["adherence"], switched["rules"][0]["followed"]) == (0.0, False)
        back = put_journal(client, alice, runs.a[0], {"playbook_id": None})
        assert [r["followed"] for r in back["rules"]] == [None, None, None]

    def test_the_journal_survives_a_rebuild(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str], runs: Runs
    ) -> None:
        orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
        fomo = client.post("/api/mistakes", json={"name": "FOMO"}, headers=alice).json()
        before = put_journal(client, alice, runs.a[0], {
            "review_state": "reviewed", "mistake_ids": [fomo["id"]],
            "rules": [{"rule_id": orb["rules"][1]["id"], "followed": False}]})  # fmt: skip
        # amend the closing fill: the position's trades are deleted and derived again
        push(client, alice_key, batch([fill("a0c", "2023-12-15T14:00:30Z", "sell", 1, 103.0,
                                            commission=0.37, op="amend")]))  # fmt: skip
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        detail = get(client, alice, f"/api/trades/{runs.a[0]}")
        assert detail["net_pnl"] == 3 - 0.74
        assert detail["journal"] == before

    def test_another_users_trade_and_mistakes_are_not_found(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str], runs: Runs
    ) -> None:
        url = f"/api/trades/{runs.a[0]}/journal"
        assert client.put(url, json={"review_state": "reviewed"}, headers=bob).status_code == 404
        bobs = client.post("/api/mistakes", json={"name": "FOMO"}, headers=bob).json()
        bobs_pb = create(client, bob, {"name": "Mine"})
        response = client.put(url, json={"mistake_ids": [bobs["id"]]}, headers=alice)
        assert (response.status_code, response.json()["detail"]) == (
            422, f"mistake_ids: mistake {bobs['id']} not found",
        )  # fmt: skip
        response = client.put(url, json={"playbook_id": bobs_pb["id"]}, headers=alice)
        assert (response.status_code, response.json()["detail"]) == (
            422, f"playbook_id: playbook {bobs_pb['id']} not found",
        )  # fmt: skip
        assert client.patch(f"/api/mistakes/{bobs['id']}", json={"name": "x"},
                            headers=alice).status_code == 404  # fmt: skip
        assert client.delete(f"/api/mistakes/{bobs['id']}", headers=alice).status_code == 404


class TestMistakesAndReview:
    def test_mistakes_crud_and_counts(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        fomo = client.post("/api/mistakes", json={"name": " FOMO "}, headers=alice)
        assert fomo.status_code == 201
        assert fomo.json()["name"] == "FOMO"
        stop = client.post("/api/mistakes", json={"name": "moved stop"}, headers=alice).json()
        dup = client.post("/api/mistakes", json={"name": "FOMO"}, headers=alice)
        assert dup.status_code == 409
        assert (
            dup.json()["detail"]
            == f"name: a mistake named 'FOMO' exists already (id {fomo.json()['id']})"
        )
        assert (
            client.post("/api/mistakes", json={"name": "x" * 61}, headers=alice).status_code == 422
        )
        fid = fomo.json()["id"]
        put_journal(client, alice, runs.a[0], {"mistake_ids": [fid, stop["id"], fid]})
        put_journal(client, alice, runs.a[1], {"mistake_ids": [stop["id"]]})
        assert get(client, alice, "/api/mistakes") == [
            {"id": fid, "name": "FOMO", "trades": 1},
            {"id": stop["id"], "name": "moved stop", "trades": 2},
        ]
        renamed = client.patch(f"/api/mistakes/{fid}", json={"name": "chased"}, headers=alice)
        assert renamed.json() == {"id": fid, "name": "chased", "trades": 1}
        journal = get(client, alice, f"/api/trades/{runs.a[0]}")["journal"]
        assert journal["mistakes"] == [
            {"id": fid, "name": "chased"},
            {"id": stop["id"], "name": "moved stop"},
        ]
        assert client.delete(f"/api/mistakes/{stop['id']}", headers=alice).status_code == 204
        journal = get(client, alice, f"/api/trades/{runs.a[0]}")["journal"]
        assert journal["mistakes"] == [{"id": fid, "name": "chased"}]

    def test_list_filters_fields_totals_and_next_unreviewed(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
        scalp = create(client, alice, {"name": "Scalp"})
        fomo = client.post("/api/mistakes", json={"name": "FOMO"}, headers=alice).json()
        a = runs.a
        reviewed = put_journal(client, alice, a[0], {"review_state": "reviewed"})
        assert reviewed["reviewed_at"] is not None
        put_journal(client, alice, a[2], {"review_state": "reviewed", "mistake_ids": [fomo["id"]]})
        put_journal(client, alice, a[3], {"mistake_ids": [fomo["id"]], "playbook_id": scalp["id"]})
        put_journal(client, alice, runs.b[1], {"review_state": "reviewed"})

        def ids(query: str, run: int | None = None) -> list[int]:
            url = f"/api/runs/{run}/trades" if run else "/api/trades"
            return [t["id"] for t in get(client, alice, f"{url}?sort=entry_ts&{query}")["items"]]

        assert ids("review=reviewed") == [a[0], a[2], runs.b[1]]
        assert ids("review=new", runs.run_a) == [a[1], a[3], a[4], a[5]]
        assert ids(f"mistake={fomo['id']}") == [a[2], a[3]]
        assert ids(f"playbook={orb['id']}") == [a[0], a[1], a[2], a[4], a[5]]
        assert ids(f"playbook={scalp['id']}") == [a[3]]
        assert ids("playbook=none") == runs.b
        assert ids(f"playbook=none&review=reviewed&mistake={fomo['id']}") == []
        items = {t["id"]: t for t in get(client, alice, "/api/trades")["items"]}
        assert (items[a[2]]["review_state"], items[a[2]]["playbook_id"], items[a[2]]["mistakes"]) == (
            "reviewed", orb["id"], ["FOMO"],
        )  # fmt: skip
        assert (items[a[3]]["review_state"], items[a[3]]["playbook_id"]) == ("new", scalp["id"])
        assert (items[runs.b[0]]["playbook_id"], items[runs.b[0]]["mistakes"]) == (None, [])
        totals = get(client, alice, f"/api/trades/totals?mistake={fomo['id']}")
        assert (totals["trade_count"], totals["net_pnl"]) == (2, 0.74 - 0.74 + 2.1 - 0.74)
        run_totals = get(client, alice, f"/api/runs/{runs.run_a}/trades/totals?review=reviewed")
        assert run_totals["trade_count"] == 2
        bad = client.get("/api/trades?playbook=abc", headers=alice)
        assert bad.status_code == 422
        assert "playbook" in bad.text

        def next_id(query: str = "") -> int | None:
            found: int | None = get(client, alice, f"/api/trades/next-unreviewed?{query}")["id"]
            return found

        assert next_id() == a[1]
        assert next_id(f"after={a[1]}") == a[3]
        assert next_id(f"after={a[5]}") == runs.b[0]
        assert next_id(f"after={runs.b[0]}") is None
        assert next_id(f"after={a[1]}&mistake={fomo['id']}") == a[3]
        assert next_id(f"after={a[3]}&run_id={runs.run_a}") == a[4]
        assert (
            client.get("/api/trades/next-unreviewed?after=999999", headers=alice).status_code == 404
        )

    def test_review_state_back_to_new_clears_reviewed_at(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        assert put_journal(client, alice, runs.a[0], {"review_state": "reviewed"})["reviewed_at"]
        again = put_journal(client, alice, runs.a[0], {"review_state": "new"})
        assert (again["review_state"], again["reviewed_at"]) == ("new", None)
        bad = client.put(f"/api/trades/{runs.a[0]}/journal", json={"review_state": "done"},
                         headers=alice)  # fmt: skip
        assert bad.status_code == 422
        assert "review_state" in bad.text


class TestLiveUpdates:
    def test_changes_are_published_after_the_commit(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        context = client.app.state.context  # type: ignore[attr-defined]
        heard: list[tuple[int, dict[str, Any]]] = []
        original = context.broker.publish
        context.broker.publish = lambda user_id, message: heard.append((user_id, message))
        try:
            orb = create(client, alice, ORB)
            put_journal(client, alice, runs.a[0], {"review_state": "reviewed"})
            client.post("/api/mistakes", json={"name": "FOMO"}, headers=alice)
            client.delete(f"/api/playbooks/{orb['id']}", headers=alice)
        finally:
            context.broker.publish = original
        assert [m for _u, m in heard if m["type"] == "journal_changed"] == [
            {"type": "journal_changed", "target": "playbook", "key": str(orb["id"])},
            {"type": "journal_changed", "target": "trade", "key": str(runs.a[0])},
            {
                "type": "journal_changed",
                "target": "mistake",
                "key": str(get(client, alice, "/api/mistakes")[0]["id"]),
            },
            {"type": "journal_changed", "target": "playbook", "key": str(orb["id"])},
        ]
        assert {u for u, _m in heard} == {1}
