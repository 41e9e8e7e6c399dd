"""A user's journal exported and imported into a fresh user reads back the same."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient

from tests.conftest import login, register
from tests.ingest.helpers import batch, fill, push

RUN = {"key": "r1", "strategy": "Breakout", "instance": "ES fast", "mode": "paper",
       "params": {"n": 3}, "initial_capital": 10000}  # fmt: skip
T = "2024-01-02T10:{:02d}:00Z"


def _events() -> list[dict[str, Any]]:
    bars = [{"type": "bar", "symbol": "ES", "timeframe": "1m", "ts": T.format(m), "open": 100 + m,
             "high": 102 + m, "low": 99 + m, "close": 101 + m, "volume": 10 * m} for m in range(12)]
    run_bars = [{**bars[0], "series": "run", "values": {"ema": 100.5}}]
    return [
        {"type": "instrument", "symbol": "ES", "multiplier": 50, "tick_size": 0.25, "currency": "USD"},
        *bars, *run_bars,
        {"type": "order", "id": "o1:new", "order_id": "o1", "ts": T.format(1), "symbol": "ES",
         "side": "buy", "order_type": "limit", "qty": 2, "limit_price": 101.0, "status": "working"},
        {"type": "order", "id": "o1:filled", "order_id": "o1", "ts": T.format(2), "symbol": "ES",
         "side": "buy", "order_type": "limit", "qty": 2, "status": "filled", "filled_qty": 2},
        fill("x1", T.format(2), "buy", 2, 101.0, symbol="ES", order_id="o1", commission=1.2),
        fill("x2", T.format(5), "sell", 1, 104.0, symbol="ES", account="acc"),
        fill("x3", T.format(6), "sell", 2, 105.0, symbol="ES", liquidity="maker"),
        fill("x4", T.format(8), "buy", 1, 103.5, symbol="ES"),
        fill("x5", T.format(9), "buy", 1, 103.0, symbol="ES"),
        {"type": "execution", "id": "bad", "ts": T.format(9), "symbol": "ES", "side": "buy",
         "qty": 0, "price": 1},
        {"type": "run_end", "ts": T.format(11), "status": "completed"},
    ]  # fmt: skip


def _strip(value: Any) -> Any:
    """Drop what differs between two users' copies: ids, wall-clock times."""
    volatile = {"id", "run_id", "seq", "created_at", "updated_at", "amended_at", "received_at",
                "ended_at", "user_id", "next_cursor", "trade_id", "last_event_id", "computed_at"}  # fmt: skip
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _journal_view(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    def get(url: str, **params: Any) -> Any:
        response = client.get(url, headers=headers, params=params)
        assert response.status_code == 200, f"{url}: {response.text}"
        return response.json()

    (run,) = get("/api/runs")["items"]
    rid = run["id"]
    trades = get(f"/api/runs/{rid}/trades")["items"]
    view: dict[str, Any] = _strip({
        "run": run,
        "executions": get(f"/api/runs/{rid}/executions", include_removed=True)["items"],
        "orders": get(f"/api/runs/{rid}/orders")["items"],
        "order": get(f"/api/runs/{rid}/orders/o1"),
        "instruments": get("/api/instruments"),
        "bars": get("/api/bars", symbol="ES", timeframe="1m"),
        "series": get(f"/api/runs/{rid}/series"),
        "trades": trades,
        "trade_details": [get(f"/api/trades/{t['id']}") for t in trades],
        "metrics": get(f"/api/runs/{rid}/metrics"),
        "rejected": get("/api/rejected-events")["items"],
    })  # fmt: skip
    return view


def _export(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/export", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(line) for line in response.content.splitlines()]


class TestRoundTrip:
    def test_export_then_import_into_a_fresh_user_equals_the_original(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(_events(), source="desk", run=RUN))
        amend = fill("x4", T.format(8), "buy", 1, 103.25, symbol="ES", op="amend")
        push(client, alice_key, batch([amend, {"type": "execution", "op": "remove", "id": "x5"}],
                                      source="desk", run=RUN))  # fmt: skip
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        response = client.patch(
            "/api/instruments/ES?confirm=true", json={"default_risk": 250}, headers=alice
        )
        assert response.status_code == 200, response.text
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        trades = client.get("/api/trades", headers=alice).json()["items"]
        assert len(trades) >= 2
        note = {"notes": "faded the open", "tags": ["a+", "fade"], "setup": "ORB"}
        assert client.patch(f"/api/trades/{trades[-1]['id']}", json=note, headers=alice).status_code == 200
        original = _journal_view(client, alice)
        exported = _export(client, alice)
        kinds = [record["kind"] for record in exported]
        assert kinds[0] == "header"
        assert {"instrument", "market_bar", "run", "order_event", "execution", "run_bar",
                "rejected_event", "trade_annotation"} <= set(kinds)  # fmt: skip

        register(client, "bob")
        bob = login(client, "bob")
        body = b"".join(orjson.dumps(r) + b"\n" for r in exported)
        response = client.post("/api/import", content=body, headers={**bob, "Content-Type": "application/x-ndjson"})
        assert response.status_code == 200, response.text
        assert response.json() | {"accepted": 0} == {"runs": 1, "accepted": 0, "duplicates": 0,
                                                      "rejected": [], "dead_letters": 1,
                                                      "annotations": 1, "journal": 0,
                                                      "attachments": 0, "webhooks": 0}  # fmt: skip
        copy = _journal_view(client, bob)
        assert copy == original
        assert _export(client, bob)[1:] == exported[1:]

        again = client.post("/api/import", content=body, headers={**bob, "Content-Type": "application/x-ndjson"})
        assert again.json()["accepted"] == 0
        assert again.json()["dead_letters"] == 0
        assert _journal_view(client, bob) == original  # importing twice changes nothing

    def test_playbooks_mistakes_reviews_days_and_template_round_trip(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(_events(), source="desk", run=RUN))
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]

        def send(method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code in (200, 201), response.text
            return response.json()

        orb = send("POST", "/api/playbooks", {"name": "ORB", "strategy": "Breakout",
                   "conditions": "trend days", "rules": [{"text": "retest"}, {"text": "stop"}]},
                   alice)  # fmt: skip
        scalp = send("POST", "/api/playbooks", {"name": "Scalp", "rules": [{"text": "1 lot"}]},
                     alice)  # fmt: skip
        fomo = send("POST", "/api/mistakes", {"name": "FOMO"}, alice)
        send("POST", "/api/mistakes", {"name": "unused"}, alice)
        trades = client.get("/api/trades?sort=entry_ts", headers=alice).json()["items"]
        assert len(trades) >= 2
        first, second = trades[0]["id"], trades[1]["id"]
        send("PUT", f"/api/trades/{first}/journal", {
            "review_state": "reviewed", "mistake_ids": [fomo["id"]],
            "rules": [{"rule_id": orb["rules"][0]["id"], "followed": True},
                      {"rule_id": orb["rules"][1]["id"], "followed": False}]}, alice)  # fmt: skip
        send("PUT", f"/api/trades/{second}/journal", {
            "playbook_id": scalp["id"],
            "rules": [{"rule_id": scalp["rules"][0]["id"], "followed": True}]}, alice)  # fmt: skip
        send("PUT", "/api/journal/template", {"template": "## Plan"}, alice)
        send("PUT", "/api/journal/days/2024-01-02", {"plan": "fade", "review": "ok", "mood": 4},
             alice)  # fmt: skip

        def view(headers: dict[str, str]) -> dict[str, Any]:
            def get(url: str) -> Any:
                response = client.get(url, headers=headers)
                assert response.status_code == 200, response.text
                return response.json()

            books = {p["id"]: p["name"] for p in get("/api/playbooks")}
            rules = {r["id"]: r["text"] for p in get("/api/playbooks") for r in p["rules"]}

            def journal(trade_id: int) -> dict[str, Any]:
                j = get(f"/api/trades/{trade_id}")["journal"]
                return {**j, "playbook_id": books.get(j["playbook_id"]),
                        "mistakes": [m["name"] for m in j["mistakes"]],
                        "rules": [(rules[r["rule_id"]], r["followed"]) for r in j["rules"]]}  # fmt: skip

            ids = [t["id"] for t in get("/api/trades?sort=entry_ts")["items"]]
            day = get("/api/journal/days/2024-01-02")
            day["trades"] = [
                {**t, "playbook_id": books.get(t["playbook_id"])} for t in day["trades"]
            ]
            stripped: dict[str, Any] = _strip({
                "playbooks": get("/api/playbooks"), "mistakes": get("/api/mistakes"),
                "journals": [journal(t) for t in ids],
                "days": get("/api/journal/days?from=2024-01-01&to=2024-01-31"),
                "day": day,
                "template": get("/api/journal/template"),
            })  # fmt: skip
            return stripped

        original = view(alice)
        assert original["journals"][0]["rules"] == [("retest", True), ("stop", False)]
        assert original["journals"][1]["playbook_id"] == "Scalp"
        exported = _export(client, alice)
        kinds = [r["kind"] for r in exported]
        assert [k for k in kinds if k in ("playbook", "mistake", "trade_journal", "journal_day",
                                          "journal_template")] == [
            "playbook", "playbook", "mistake", "mistake", "trade_journal", "trade_journal",
            "journal_day", "journal_template",
        ]  # fmt: skip
        register(client, "bob")
        bob = login(client, "bob")
        body = b"".join(orjson.dumps(r) + b"\n" for r in exported)
        headers = {**bob, "Content-Type": "application/x-ndjson"}
        response = client.post("/api/import", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["journal"] == 8
        assert view(bob) == original
        assert _export(client, bob)[1:] == exported[1:]
        again = client.post("/api/import", content=body, headers=headers)
        assert again.json()["journal"] == 4  # the reviews, day and template again; no new names
        assert view(bob) == original

    def test_a_bad_journal_is_refused_whole(self, client: TestClient, alice: dict[str, str]) -> None:
        header = b'{"kind":"header","format":"fillbook-journal","version":1}\n'
        run = b'{"kind":"run","source":"s","key":"k","strategy":"x","mode":"live"}\n'
        for body, problem in (
            (b"", "expected a fillbook-journal header"),
            (b'{"kind":"run"}\n', "line 1: the first line must be a fillbook-journal header"),
            (header + b"not json\n", "line 2:"),
            (header + b'{"kind":"wat"}\n', "line 2: unknown kind 'wat'"),
            (header + b'{"kind":"playbook","name":""}\n', "line 2: 1 validation error for PlaybookRecord"),
            (header + b'{"kind":"journal_day","day":"2024-01-02","mood":9}\n', "line 2: 1 validation error for DayRecord"),
            (header + b'{"kind":"trade_journal","source":"s","run_key":"k","first_exec_id":"e",'
             b'"reviewed_at":"2024-01-02T10:00:00"}\n', "line 2: 1 validation error for TradeJournalRecord"),
            (header + b'{"kind":"run","source":"s","key":"k\\u0000","strategy":"x","mode":"live"}\n',
             "line 2: text must not contain NUL"),
            (header + b'{"kind":"execution","source":"s","run_key":"k"}\n', "line 2: run 'k' of source 's' has no run line"),
            (header + run + b'{"kind":"execution","source":"s","run_key":"k","exec_id":"e","ts":1,'
             b'"symbol":"A","side":"buy","qty":1,"price":1}\n', "line 3: ts: 1 looks like epoch seconds; send epoch nanoseconds"),
            # the ingest contract's input domain (backend/ingest/domain.py), the same here
            (header + run + b'{"kind":"execution","source":"s","run_key":"k","exec_id":"e",'
             b'"ts":"2262-04-12T00:00:00Z","symbol":"A","side":"buy","qty":1,"price":1}\n',
             "line 3: ts: must be before 2200-01-01T00:00:00Z"),
            (header + run + b'{"kind":"execution","source":"s","run_key":"k","exec_id":"e",'
             b'"ts":"2023-01-02T10:00:00Z","symbol":"A","side":"buy","qty":1e-9,"price":1}\n',
             "line 3: qty: must be at least 1e-08 (the smallest amount counted), got 1e-09"),
        ):
            response = client.post("/api/import", content=body, headers=alice)
            assert response.status_code == 422, response.text
            assert problem in response.json()["detail"]
        assert client.get("/api/runs", headers=alice).json()["items"] == []  # nothing stored

    def test_keys_without_export_or_write_journal_cannot_export_or_import(self, client: TestClient, alice_key: dict[str, str]) -> None:
        exported = client.get("/api/export", headers=alice_key)  # scopes ingest and read
        assert exported.status_code == 403
        assert "lacks the 'export' scope" in exported.json()["detail"]
        imported = client.post("/api/import", content=b"", headers=alice_key)
        assert imported.status_code == 403
        assert "lacks the 'write:journal' scope" in imported.json()["detail"]
