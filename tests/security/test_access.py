"""Who may call what: every endpoint, from the app's own route list (tests/security/endpoints.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.auth.scopes import Scope
from tests.security.conftest import MARKER, World
from tests.security.endpoints import PUBLIC_OPERATIONS, Endpoint, catalogue
from tests.security.test_headers import FIXED

# Managing keys and users needs a person: these must be among the key-refusing endpoints.
MUST_NEED_PERSON = {"create_api_key", "list_api_keys", "revoke_api_key", "update_me",
                    "list_users", "update_user"}  # fmt: skip
# Path parameters that name something within the caller's own data (not a global id).
NAME_PARAMS = {"symbol", "day", "name"}  # name: a saved import mapping's, per user
# Endpoints with an authentication of their own (a scraper's METRICS_TOKEN or an ADMIN's token).
OWN_AUTH = {"metrics"}
# What an API key needs beyond `read` (which every other GET needs), chosen route by route.
EXPECTED_SCOPE = {
    "ingest": Scope.INGEST,
    "update_trade": Scope.WRITE_JOURNAL, "update_instrument": Scope.WRITE_JOURNAL,
    "import_journal": Scope.WRITE_JOURNAL,
    "create_attachment": Scope.WRITE_JOURNAL, "delete_attachment": Scope.WRITE_JOURNAL,
    "export_journal": Scope.EXPORT,
    "create_backtest": Scope.BACKTESTS, "load_demo": Scope.BACKTESTS,
    "remove_demo": Scope.BACKTESTS,
    "create_training": Scope.TRAINING, "cancel_training_job": Scope.TRAINING,
    "set_auto_training": Scope.TRAINING,
    "create_stream_ticket": Scope.READ,
    "create_playbook": Scope.WRITE_JOURNAL, "update_playbook": Scope.WRITE_JOURNAL,
    "delete_playbook": Scope.WRITE_JOURNAL, "create_mistake": Scope.WRITE_JOURNAL,
    "update_mistake": Scope.WRITE_JOURNAL, "delete_mistake": Scope.WRITE_JOURNAL,
    "update_trade_journal": Scope.WRITE_JOURNAL, "update_journal_template": Scope.WRITE_JOURNAL,
    "update_journal_day": Scope.WRITE_JOURNAL, "delete_journal_day": Scope.WRITE_JOURNAL,
    "create_import": Scope.INGEST, "update_import": Scope.INGEST,
    "set_import_mapping": Scope.INGEST, "confirm_import": Scope.INGEST,
    "delete_import": Scope.INGEST, "save_import_mapping": Scope.INGEST,
    "delete_import_mapping": Scope.INGEST,
}  # fmt: skip


def _protected(world: World) -> list[Endpoint]:
    return [e for e in catalogue(world.client.app) if not e.public]  # type: ignore[arg-type]


class TestCatalogue:
    def test_sees_every_router(self, world: World) -> None:
        endpoints = catalogue(world.client.app)  # type: ignore[arg-type]
        ids = {e.operation_id for e in endpoints}
        assert PUBLIC_OPERATIONS | MUST_NEED_PERSON | {"ingest", "get_run", "get_trade"} <= ids
        assert {e.operation_id for e in endpoints if e.needs_person} >= MUST_NEED_PERSON
        assert len(endpoints) >= 30


class TestWithoutCredentials:
    def test_every_endpoint_but_register_login_health_says_401(self, world: World) -> None:
        failures = []
        for endpoint in _protected(world):
            for headers in ({}, {"Authorization": "Bearer not-a-token"},
                            {"Authorization": "Bearer fb_live_unknownkey0000000000000000"}):  # fmt: skip
                response = world.call(endpoint, headers)
                if response.status_code != 401 or "error" not in response.json():
                    failures.append(f"{endpoint} {headers}: {response.status_code} {response.text[:120]}")
                missing = {name for name, value in FIXED.items() if response.headers.get(name) != value}
                if missing or "frame-ancestors 'none'" not in response.headers.get("content-security-policy", ""):
                    failures.append(f"{endpoint}: security headers missing: {sorted(missing) or 'CSP'}")
        assert not failures, "\n".join(failures)

    def test_public_endpoints_answer_without_credentials(self, client: TestClient) -> None:
        assert client.get("/api/health").status_code == 200
        assert client.post("/api/auth/register", json={"username": "carol", "password": "pw-carol-1"}).status_code == 201
        assert client.post("/api/auth/login", data={"username": "carol", "password": "pw-carol-1"}).status_code == 200

    def test_the_stream_refuses_without_credentials(self, world: World) -> None:
        for url in ("/api/stream", "/api/stream?token=garbage"):
            with pytest.raises(WebSocketDisconnect) as refused, world.client.websocket_connect(url) as ws:
                ws.receive_json()
            assert refused.value.code == 4401


class TestOtherUsersIds:
    def test_every_id_taking_endpoint_says_404_to_another_user(self, world: World) -> None:
        """bob, with his token and with his key, names alice's run, trade, key, order, symbol."""
        failures, checked = [], 0
        for endpoint in _protected(world):
            if not endpoint.path_params or set(endpoint.path_params) <= NAME_PARAMS:
                continue
            credentials = [world.bob] if endpoint.needs_person else [world.bob, world.bob_key]
            for headers in credentials:
                response = world.call(endpoint, headers)
                expected = 403 if endpoint.needs_admin else 404
                checked += 1
                if response.status_code != expected or MARKER in response.text:
                    failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        assert not failures, "\n".join(failures)
        assert checked >= 20

    def test_names_act_in_the_callers_own_namespace(self, world: World) -> None:
        """A symbol is a name, not an id: bob's PATCH makes his own instrument, not alice's;
        a journal day likewise (bob's PUT writes his own day, his DELETE deletes it: 204)."""
        for endpoint in _protected(world):
            if endpoint.path_params and set(endpoint.path_params) <= NAME_PARAMS:
                response = world.call(endpoint, world.bob)
                assert response.status_code in (200, 204, 404), f"{endpoint}: {response.text}"
                assert MARKER not in response.text
        (mine,) = world.client.get("/api/instruments", headers=world.alice).json()
        assert mine["multiplier"] == 2.0
        day = world.client.get(f"/api/journal/days/{world.ids['day']}", headers=world.alice)
        assert day.json()["review"] == MARKER

    def test_alice_can_reach_what_bob_cannot(self, world: World) -> None:
        """The ids are real: the owner gets them (so the 404s above are not vacuous).

        Only for the ids this fixture creates; an id-taking endpoint added later (say a
        training job's) is still checked for bob's 404 above with id 1.
        """
        for endpoint in _protected(world):
            if endpoint.path_params and set(endpoint.path_params) <= set(world.ids) and endpoint.method == "GET":
                response = world.call(endpoint, world.alice)
                assert response.status_code == 200, f"{endpoint}: {response.text[:200]}"

    def test_no_list_or_query_leaks_another_users_data(self, world: World) -> None:
        """Every GET without path ids, as bob with alice's ids in the query, shows none of hers."""
        query = {"run_id": world.ids["run_id"], "a": world.ids["run_id"], "b": world.ids["run_id"],
                 "symbol": world.ids["symbol"], "timeframe": "1m"}  # fmt: skip
        failures = []
        for endpoint in _protected(world):
            if endpoint.method != "GET" or endpoint.path_params:
                continue
            for headers in (world.bob, world.bob_key):
                response = world.client.get(endpoint.path, params=query, headers=headers)
                if response.status_code >= 500 or MARKER in response.text:
                    failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        assert not failures, "\n".join(failures)


class TestIngestKeys:
    def test_management_endpoints_refuse_an_api_key_with_403(self, world: World) -> None:
        failures = []
        for endpoint in _protected(world):
            if not endpoint.needs_person:
                continue
            response = world.call(endpoint, world.alice_key)
            if response.status_code != 403 or response.json().get("error") != "forbidden":
                failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        assert not failures, "\n".join(failures)
        keys = world.client.get("/api/auth/api-keys", headers=world.alice).json()
        assert len(keys) == 1
        assert keys[0]["revoked_at"] is None  # nothing was changed

    def test_a_key_still_ingests_and_reads(self, world: World) -> None:
        assert world.client.get("/api/runs", headers=world.alice_key).status_code == 200
        assert world.client.get(f"/api/runs/{world.ids['run_id']}", headers=world.alice_key).status_code == 200


class TestScopes:
    def test_every_endpoint_is_classified(self, world: World) -> None:
        """A person-only route, a route with its own authentication, or one scope: no route
        lets any API key through unchecked, and each needs the scope meant for it."""
        failures = []
        for endpoint in _protected(world):
            if endpoint.needs_person or endpoint.operation_id in OWN_AUTH:
                continue
            if endpoint.operation_id in EXPECTED_SCOPE:
                expected: Scope | None = EXPECTED_SCOPE[endpoint.operation_id]
            elif endpoint.method == "GET":
                expected = Scope.READ
            else:
                expected = None  # a write route nobody gave a scope on purpose
            if endpoint.scope is None or endpoint.scope is not expected:
                failures.append(f"{endpoint} ({endpoint.operation_id}): needs {endpoint.scope}, expected {expected}")
        assert not failures, "\n".join(failures)
        used = {e.scope for e in _protected(world)}
        assert used >= set(Scope)

    def test_a_key_lacking_the_scope_gets_403_naming_it(self, world: World) -> None:
        """alice's key with every scope but one, on each route that needs that one."""
        failures, checked = [], 0
        for scope in Scope:
            headers = world.key(world.alice, set(Scope) - {scope})
            for endpoint in _protected(world):
                if endpoint.scope is not scope:
                    continue
                response, checked = world.call(endpoint, headers), checked + 1
                body = response.json()
                if (response.status_code, body.get("error")) != (403, "forbidden") or (
                    f"this API key lacks the '{scope}' scope" not in body.get("detail", "")
                ):
                    failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        assert not failures, "\n".join(failures)
        assert checked >= 35
        # Nothing was changed by the refused calls.
        (trade,) = world.client.get("/api/trades", headers=world.alice).json()["items"]
        assert trade["notes"] == MARKER
        (instrument,) = world.client.get("/api/instruments", headers=world.alice).json()
        assert instrument["multiplier"] == 2.0

    def test_a_key_with_only_that_scope_gets_past_the_check(self, world: World) -> None:
        """bob's key with one scope, on each route that needs it (alice's ids: 404, not 403)."""
        failures = []
        for scope in Scope:
            headers = world.key(world.bob, {scope})
            for endpoint in _protected(world):
                if endpoint.scope is scope:
                    response = world.call(endpoint, headers)
                    if response.status_code in (401, 403) or MARKER in response.text:
                        failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        assert not failures, "\n".join(failures)

    def test_the_stream_needs_read(self, world: World) -> None:
        ingest_only = world.key(world.alice, {Scope.INGEST})["Authorization"].removeprefix("Bearer ")
        with pytest.raises(WebSocketDisconnect) as refused, world.client.websocket_connect(
            f"/api/stream?token={ingest_only}"
        ) as ws:
            ws.receive_json()
        assert refused.value.code == 4403
        assert "lacks the 'read' scope" in refused.value.reason
        reader = world.key(world.alice, {Scope.READ})["Authorization"].removeprefix("Bearer ")
        with world.client.websocket_connect(f"/api/stream?token={reader}") as ws:
            assert ws.receive_json() == {"type": "hello", "user_id": 1}
