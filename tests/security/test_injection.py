"""SQL and script injection in every stored string field: stored, and echoed verbatim as JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgpack
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import login, register
from tests.ingest.helpers import batch, push

PAYLOADS = [
    "'; DROP TABLE execution; --",
    "\" OR 1=1 --",
    "x') UNION SELECT password_hash FROM \"user\" --",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} %s %n",
    "Robert'); DELETE FROM strategy_run;--",
    "\\u0000 \\\\ \\\" back\\slash",
    "ünïcødé ✓ 🚀 \u202eRTL",
]
NUL = "nul\x00byte"
NUL_DETAIL = "text must not contain NUL (\\u0000) characters"


def _short(text: str, limit: int) -> str:
    return text[:limit]


class TestInjection:
    def test_ingest_string_fields_round_trip(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        for number, payload in enumerate(PAYLOADS):
            self._round_trip(client, alice, alice_key, payload, number)

    def _round_trip(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str], payload: str,
        number: int,
    ) -> None:
        symbol = _short("S" + payload, 64)
        source, key = _short("src" + payload, 200), _short("key" + payload, 200)
        run = {"key": key, "strategy": "st" + payload, "instance": "in" + payload, "mode": "live",
               "params": {payload: payload}}  # fmt: skip
        events: list[dict[str, Any]] = [
            {"type": "instrument", "symbol": symbol, "currency": _short(payload, 16),
             "asset_class": _short(payload, 32)},
            {"type": "order", "id": "oe" + payload, "order_id": "o" + payload,
             "ts": "2024-01-02T10:00:00Z", "symbol": symbol, "side": "buy", "order_type": "limit",
             "qty": 1, "limit_price": 10.0, "status": "working", "tif": _short(payload, 16),
             "parent_id": "p" + payload, "reason": payload},
            {"type": "execution", "id": "x" + payload, "order_id": "o" + payload,
             "ts": "2024-01-02T10:00:01Z", "symbol": symbol, "side": "buy", "qty": 1,
             "price": 10.0, "account": payload, "liquidity": _short(payload, 16)},
            {"type": "execution", "id": "y" + payload, "ts": "2024-01-02T10:00:02Z",
             "symbol": symbol, "side": "sell", "qty": 1, "price": 11.0, "account": payload},
            {"type": "bar", "symbol": symbol, "timeframe": "1m", "ts": "2024-01-02T10:00:00Z",
             "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "series": "run",
             "values": {_short(payload, 100): 1.5}},
            {"type": "execution", "id": "bad" + payload, "ts": "2024-01-02T10:00:03Z",
             "symbol": symbol, "side": "buy", "qty": -1, "price": 1.0},
        ]  # fmt: skip
        result = push(client, alice_key, batch(events, source=source, run=run))
        assert result["accepted"] == 5, result
        assert [r["id"] for r in result["rejected"]] == ["bad" + payload]
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        run_id = result["run_id"]

        def get(url: str, **params: Any) -> Any:
            response = client.get(url, headers=alice, params=params)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/json")
            return response.json()

        stored = get(f"/api/runs/{run_id}")
        assert (stored["source"], stored["key"]) == (source, key)
        assert (stored["strategy"]["name"], stored["instance"]["name"]) == ("st" + payload, "in" + payload)
        assert stored["params"] == {payload: payload}
        assert get("/api/runs", strategy="st" + payload)["items"][0]["id"] == run_id
        instrument = next(i for i in get("/api/instruments") if i["symbol"] == symbol)
        assert (instrument["symbol"], instrument["currency"], instrument["asset_class"]) == (
            symbol, _short(payload, 16), _short(payload, 32))
        fills = get(f"/api/runs/{run_id}/executions", symbol=symbol)["items"]
        assert [(f["id"], f["account"]) for f in fills] == [("x" + payload, payload), ("y" + payload, payload)]
        assert fills[0]["order_id"] == "o" + payload
        assert fills[0]["liquidity"] == _short(payload, 16)
        (order,) = get(f"/api/runs/{run_id}/orders")["items"]
        assert (order["order_id"], order["reason"], order["parent_id"], order["tif"]) == (
            "o" + payload, payload, "p" + payload, _short(payload, 16))
        detail = get(f"/api/runs/{run_id}/orders/{quote('o' + payload, safe='')}")
        assert detail["order_id"] == "o" + payload
        (rejected,) = get("/api/rejected-events", run_id=run_id)["items"]
        assert rejected["event_id"] == "bad" + payload
        (trade,) = get(f"/api/runs/{run_id}/trades")["items"]
        assert trade["symbol"] == symbol
        # Nothing was interpreted: every table is still there and holds what it should.
        assert len(get("/api/runs")["items"]) == number + 1

    def test_trade_notes_tags_setup_round_trip(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        events = [
            {"type": "execution", "id": "a", "ts": "2024-01-02T10:00:01Z", "symbol": "ES",
             "side": "buy", "qty": 1, "price": 10.0},
            {"type": "execution", "id": "b", "ts": "2024-01-02T10:00:02Z", "symbol": "ES",
             "side": "sell", "qty": 1, "price": 11.0},
        ]  # fmt: skip
        push(client, alice_key, batch(events))
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        (trade,) = client.get("/api/trades", headers=alice).json()["items"]
        for payload in PAYLOADS:
            self._annotate(client, alice, trade["id"], payload)

    def _annotate(self, client: TestClient, alice: dict[str, str], trade_id: int, payload: str) -> None:
        update = {"notes": payload, "tags": [_short(payload, 64), "t2"], "setup": _short(payload, 200)}
        response = client.patch(f"/api/trades/{trade_id}", json=update, headers=alice)
        assert response.status_code == 200, response.text
        expected_tags = [tag.strip() for tag in update["tags"] if tag.strip()]
        for body in (response.json(), client.get(f"/api/trades/{trade_id}", headers=alice).json()):
            assert (body["notes"], body["setup"]) == (payload, _short(payload, 200))
            assert body["tags"] == expected_tags

    def test_api_key_names_and_usernames(self, client: TestClient, alice: dict[str, str]) -> None:
        for payload in PAYLOADS:
            self._key_and_user(client, alice, payload)
        listed = client.get("/api/auth/api-keys", headers=alice).json()
        assert sorted(k["name"] for k in listed) == sorted(_short(p, 100) for p in PAYLOADS)

    def _key_and_user(self, client: TestClient, alice: dict[str, str], payload: str) -> None:
        name = _short(payload, 100)
        response = client.post("/api/auth/api-keys", json={"name": name}, headers=alice)
        assert response.status_code == 201, response.text
        assert response.json()["name"] == name
        # Usernames are restricted to letters, digits and _ . @ -: refused, nothing created.
        refused = client.post("/api/auth/register", json={"username": payload, "password": "pw-12345"})
        assert refused.status_code == 422
        assert [u["username"] for u in client.get("/api/admin/users", headers=alice).json()] == ["alice"]

    def test_odd_but_allowed_usernames_round_trip(self, client: TestClient) -> None:
        username = "a.b-c_d@e"
        register(client, username)
        headers = login(client, username)
        assert client.get("/api/auth/me", headers=headers).json()["username"] == username


class TestNul:
    """PostgreSQL cannot store NUL in text: both databases refuse it alike, with a 4xx."""

    def test_an_event_holding_nul_is_rejected_and_the_others_stored(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        events = [
            {"type": "execution", "id": "ok", "ts": "2024-01-02T10:00:01Z", "symbol": "ES",
             "side": "buy", "qty": 1, "price": 10.0},
            {"type": "execution", "id": NUL, "ts": "2024-01-02T10:00:02Z", "symbol": "ES",
             "side": "sell", "qty": 1, "price": 11.0},
            {"type": "order", "id": "o", "order_id": "o", "ts": "2024-01-02T10:00:00Z",
             "symbol": "ES", "side": "buy", "order_type": "market", "qty": 1,
             "status": "new", "reason": NUL},
            {"type": "bar", "symbol": "ES", "timeframe": "1m", "ts": "2024-01-02T10:00:00Z",
             "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "unknown": {NUL: 1}},
        ]  # fmt: skip
        for body in (batch(events), batch(events, source="packed")):
            if body["source"] == "packed":
                response = client.post("/api/ingest", content=msgpack.packb(body), headers={
                    **alice_key, "Content-Type": "application/msgpack"})  # fmt: skip
            else:
                response = client.post("/api/ingest", json=body, headers=alice_key)
            assert response.status_code == 200, response.text
            result = response.json()
            assert result["accepted"] == 1
            assert result["rejected"] == [
                {"index": 1, "id": "nul\ufffdbyte", "error": NUL_DETAIL},
                {"index": 2, "id": "o", "error": NUL_DETAIL},
                {"index": 3, "id": None, "error": NUL_DETAIL},
            ]
        stored = client.get("/api/rejected-events", headers=alice).json()["items"]
        assert len(stored) == 6
        raws = [orjson.loads(item["raw"]) for item in stored]
        assert raws.count(events[1]) == 2  # kept whole, NUL and all, as escaped JSON text

    @pytest.mark.parametrize("where", ["source", "key", "strategy", "params"])
    def test_an_envelope_holding_nul_is_refused(
        self, client: TestClient, alice_key: dict[str, str], where: str
    ) -> None:
        run: dict[str, Any] = {"key": "k", "strategy": "s", "mode": "live"}
        source = NUL if where == "source" else "src"
        if where == "params":
            run["params"] = {"a": [NUL]}
        elif where != "source":
            run[where] = NUL
        response = client.post("/api/ingest", json=batch([], source=source, run=run), headers=alice_key)
        assert response.status_code == 422, response.text
        assert NUL_DETAIL in response.json()["detail"]
        assert client.get("/api/runs", headers=alice_key).json()["items"] == []

    def test_other_endpoints_refuse_nul_in_body_path_and_query(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        for method, url, body in (
            ("POST", "/api/auth/api-keys", {"name": NUL}),
            ("PATCH", "/api/trades/1", {"notes": NUL}),
            ("GET", "/api/runs?strategy=a%00b", None),
            ("PATCH", "/api/instruments/A%00B", {"multiplier": 2}),
        ):
            response = client.request(method, url, json=body, headers=alice)
            assert response.status_code == 422, f"{method} {url}: {response.text}"
            assert NUL_DETAIL in response.json()["detail"]
        literal = {"name": "\\u0000 is six characters here"}
        response = client.post("/api/auth/api-keys", json=literal, headers=alice)
        assert response.status_code == 201
        assert response.json()["name"] == literal["name"]
