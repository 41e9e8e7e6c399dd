"""Two users with data: alice (ADMIN, owns everything the ids point at) and bob (USER).

Their keys hold every scope, so that what they are refused is refused for another
reason than a missing scope; `World.key` makes keys with fewer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.auth.scopes import Scope
from tests.conftest import create_api_key, login, register
from tests.ingest.helpers import batch, fill, push
from tests.security.endpoints import Endpoint, minimal_body

# In alice's strategy name and notes: bob's responses must never contain it.
MARKER = "alice-private-7f3c"
ALICE_RUN = {"key": f"{MARKER}-run", "strategy": f"{MARKER} strategy", "mode": "live"}
SYMBOL = "ALICESYM"
EVERY_SCOPE = tuple(scope.value for scope in Scope)


@dataclass
class World:
    client: TestClient
    alice: dict[str, str]
    alice_key: dict[str, str]
    bob: dict[str, str]
    bob_key: dict[str, str]
    ids: dict[str, object]  # a path parameter's name → the id of alice's object

    def key(self, owner: dict[str, str], scopes: set[Scope] | tuple[Scope, ...]) -> dict[str, str]:
        """Headers with a new API key of `owner`'s (alice's or bob's token) with `scopes`."""
        secret = create_api_key(self.client, owner, "scoped", tuple(s.value for s in scopes))
        return {"Authorization": f"Bearer {secret}"}

    def call(
        self, endpoint: Endpoint, headers: dict[str, str] | None = None, **values: object
    ) -> httpx.Response:
        """Call `endpoint` with alice's ids in its path and the smallest valid body."""
        components = self.client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
        other = {  # parameters that are not ids of alice's objects, e.g. an artifact's name
            name: minimal_body(schema, components)
            for name, schema in endpoint.path_schemas.items()
            if name not in self.ids and schema.get("type") != "integer"
        }
        url = endpoint.url({**other, **self.ids, **values})
        known = {**self.ids, "a": self.ids["run_id"], "b": self.ids["run_id"], "timeframe": "1m"}
        query = {
            name: known[name] if name in known else minimal_body(schema, components)
            for name, schema in endpoint.required_query.items()
        }
        kwargs: dict[str, Any] = {"headers": headers or {}, "params": query}
        if endpoint.body_media == "application/json":
            kwargs["json"] = minimal_body(endpoint.body_schema, components)
        elif endpoint.body_media is not None:
            kwargs["data"] = {"username": "x", "password": "y"}
        response: httpx.Response = self.client.request(endpoint.method, url, **kwargs)
        return response


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(client: TestClient) -> World:
    register(client, "alice")
    alice = login(client, "alice")
    alice_key = {"Authorization": f"Bearer {create_api_key(client, alice, scopes=EVERY_SCOPE)}"}
    register(client, "bob")
    bob = login(client, "bob")
    bob_key = {"Authorization": f"Bearer {create_api_key(client, bob, scopes=EVERY_SCOPE)}"}
    events = [
        {"type": "instrument", "symbol": SYMBOL, "multiplier": 2},
        {"type": "order", "id": "o1:new", "order_id": "o1", "ts": "2024-01-02T10:00:00Z",
         "symbol": SYMBOL, "side": "buy", "order_type": "market", "qty": 1, "status": "filled"},
        {"type": "bar", "symbol": SYMBOL, "timeframe": "1m", "ts": "2024-01-02T10:00:00Z",
         "open": 10.0, "high": 12.0, "low": 9.0, "close": 11.0},
        fill("x1", "2024-01-02T10:00:10Z", "buy", 1, 10.0, symbol=SYMBOL, order_id="o1"),
        fill("x2", "2024-01-02T10:00:50Z", "sell", 1, 11.0, symbol=SYMBOL),
        {"type": "run_end", "ts": "2024-01-02T11:00:00Z"},
    ]  # fmt: skip
    run_id = push(client, alice_key, batch(events, source="desk", run=ALICE_RUN))["run_id"]
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    trades = client.get("/api/trades", headers=alice).json()["items"]
    assert len(trades) == 1
    client.patch(f"/api/trades/{trades[0]['id']}", json={"notes": MARKER}, headers=alice)
    playbook = client.post("/api/playbooks", json={"name": MARKER, "description": MARKER,
                                                   "rules": [{"text": MARKER}]}, headers=alice)  # fmt: skip
    mistake = client.post("/api/mistakes", json={"name": MARKER[:60]}, headers=alice)
    day = client.put("/api/journal/days/2024-01-02", json={"review": MARKER}, headers=alice)
    assert (playbook.status_code, mistake.status_code, day.status_code) == (201, 201, 200)
    shot = client.post("/api/attachments", params={"target": "trade", "key": trades[0]["id"]},
                       content=_png(), headers={**alice, "Content-Type": "image/png",
                                                "X-Filename": f"{MARKER}.png"})  # fmt: skip
    assert shot.status_code == 201, shot.text
    account = client.get("/api/accounts", headers=alice).json()[0]  # "" made by the fills
    flow = client.post(f"/api/accounts/{account['id']}/cash", json={
        "kind": "deposit", "amount": 100, "ts": "2024-01-02T09:00:00Z", "note": MARKER,
    }, headers=alice)  # fmt: skip
    rate = client.put("/api/fx-rates", json={"base": "EUR", "quote": "USD", "day": "2024-01-02",
                                             "rate": 1.1}, headers=alice)  # fmt: skip
    assert (flow.status_code, rate.status_code) == (201, 201), (flow.text, rate.text)
    keys = client.get("/api/auth/api-keys", headers=alice).json()
    ids: dict[str, object] = {
        "playbook_id": playbook.json()["id"],
        "mistake_id": mistake.json()["id"],
        "day": "2024-01-02",
        "run_id": run_id,
        "trade_id": trades[0]["id"],
        "key_id": keys[0]["id"],
        "order_id": "o1",
        "symbol": SYMBOL,
        "user_id": 1,
        "attachment_id": shot.json()["id"],
        "account_id": account["id"],
        "flow_id": flow.json()["id"],
        "rate_id": rate.json()["id"],
    }
    return World(client, alice, alice_key, bob, bob_key, ids)
