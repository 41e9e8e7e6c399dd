"""Every row of the contract's event table, and every way an event is rejected."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.ingest.helpers import CONTRACT_EVENTS, RUN, batch, fill, push


def _get(client: TestClient, headers: dict[str, str], path: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _bar(ts: str, o: float, h: float, lo: float, c: float, **extra: Any) -> dict[str, Any]:
    return {"type": "bar", "symbol": "MESZ3", "timeframe": "1m", "ts": ts,
            "open": o, "high": h, "low": lo, "close": c, **extra}  # fmt: skip


def _order(event_id: str, ts: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"type": "order", "id": event_id, "order_id": "o-1", "ts": ts, "symbol": "MESZ3",
            "side": "buy", "order_type": "limit", "qty": 2, "status": status, **extra}  # fmt: skip


class TestContractExample:
    def test_stores_every_event_and_replay_stores_nothing(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        first = push(client, alice_key, batch(CONTRACT_EVENTS))
        assert first == {"run_id": 1, "accepted": 5, "duplicates": 0, "rejected": []}
        again = push(client, alice_key, batch(CONTRACT_EVENTS))
        assert again == {"run_id": 1, "accepted": 0, "duplicates": 5, "rejected": []}

        run = _get(client, alice_key, "/api/runs/1")
        assert run["strategy"]["name"] == "Stacked Imbalance"
        assert run["instance"]["name"] == "MES 5m aggressive"
        assert (run["mode"], run["status"], run["params"]) == (
            "live",
            "completed",
            {"imbalance_ratio": 3.0},
        )
        assert run["initial_capital"] == 25000
        assert (run["started_ts"], run["ended_ts"]) == (
            "2023-12-15T14:30:00Z",
            "2023-12-15T21:00:00Z",
        )
        assert (run["execution_count"], run["order_count"]) == (1, 1)

        (execution,) = _get(client, alice_key, "/api/runs/1/executions")["items"]
        assert execution["id"] == "x-9001"
        assert execution["order_id"] == "o-17"
        assert (execution["ts"], execution["qty"], execution["price"], execution["commission"]) == (
            "2023-12-15T14:30:01.003Z",
            2.0,
            4700.25,
            0.74,
        )
        assert execution["account"] == ""
        assert execution["removed"] is False

        (instrument,) = _get(client, alice_key, "/api/instruments")
        assert (instrument["symbol"], instrument["multiplier"], instrument["tick_size"]) == (
            "MESZ3",
            5.0,
            0.25,
        )


class TestRuns:
    def test_later_batches_append_to_the_run_named_by_key(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([fill("x1", "2023-12-15T14:30:00Z", "buy", 1, 100.0)]))
        second = push(
            client, alice_key, batch([fill("x2", "2023-12-15T14:31:00Z", "sell", 1, 101.0)])
        )
        assert second["run_id"] == 1
        other = push(client, alice_key, batch([], run={**RUN, "key": "another"}))
        assert other["run_id"] == 2
        runs = _get(client, alice_key, "/api/runs")["items"]
        assert [(r["id"], r["key"], r["execution_count"]) for r in runs] == [
            (2, "another", 0),
            (1, "2023-12-15-live", 2),
        ]
        assert runs[0]["strategy"]["id"] == runs[1]["strategy"]["id"]  # one strategy, by name

    def test_same_key_from_another_source_is_another_run(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        assert push(client, alice_key, batch([], source="a"))["run_id"] == 1
        assert push(client, alice_key, batch([], source="b"))["run_id"] == 2

    def test_a_run_cannot_change_strategy_or_mode(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([]))
        response = client.post(
            "/api/ingest",
            json=batch([], run={**RUN, "strategy": "Other", "mode": "paper"}),
            headers=alice_key,
        )
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "run.strategy: run '2023-12-15-live' of source 'quantower-desk-1' has strategy "
            "'Stacked Imbalance', not 'Other'; run.mode: run '2023-12-15-live' of source "
            "'quantower-desk-1' has mode 'live', not 'paper'"
        )

    def test_run_end_closes_the_run_once(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        end = {"type": "run_end", "ts": "2023-12-15T21:00:00Z", "status": "failed"}
        assert push(client, alice_key, batch([end]))["accepted"] == 1
        assert push(client, alice_key, batch([end]))["duplicates"] == 1
        run = _get(client, alice_key, "/api/runs/1")
        assert (run["status"], run["ended_ts"]) == ("failed", "2023-12-15T21:00:00Z")
        assert run["ended_at"] is not None


class TestInstruments:
    def test_later_values_update_and_omitted_fields_are_kept(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([{"type": "instrument", "symbol": "ES", "multiplier": 50,
                                        "tick_size": 0.25, "currency": "USD"}]))  # fmt: skip
        result = push(client, alice_key, batch([
            {"type": "instrument", "symbol": "ES", "asset_class": "future"},
            {"type": "instrument", "symbol": "AAPL"},
            {"type": "instrument", "symbol": "AAPL"},
        ]))  # fmt: skip
        assert (result["accepted"], result["duplicates"]) == (2, 1)
        rows = {i["symbol"]: i for i in _get(client, alice_key, "/api/instruments")}
        assert (rows["ES"]["multiplier"], rows["ES"]["tick_size"], rows["ES"]["asset_class"]) == (
            50.0,
            0.25,
            "future",
        )
        assert (rows["AAPL"]["multiplier"], rows["AAPL"]["currency"]) == (1.0, None)


class TestOrders:
    def test_current_state_is_the_latest_event_and_history_is_kept(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([
            _order("o-1:new", "2023-12-15T14:30:00Z", "new", limit_price=4700.25, tif="day"),
            _order("o-1:filled", "2023-12-15T14:30:02Z", "filled", filled_qty=2, avg_fill_price=4700.25),
        ]))  # fmt: skip
        # an older event arriving late goes into the history but does not become the state
        late = push(
            client, alice_key, batch([_order("o-1:working", "2023-12-15T14:30:01Z", "working")])
        )
        assert late["accepted"] == 1
        (order,) = _get(client, alice_key, "/api/runs/1/orders")["items"]
        assert (order["status"], order["filled_qty"], order["avg_fill_price"]) == (
            "filled",
            2.0,
            4700.25,
        )
        assert (order["limit_price"], order["tif"]) == (4700.25, "day")  # kept from earlier events
        assert (order["created_ts"], order["ts"]) == (
            "2023-12-15T14:30:00Z",
            "2023-12-15T14:30:02Z",
        )
        detail = _get(client, alice_key, "/api/runs/1/orders/o-1")
        assert [(e["id"], e["status"]) for e in detail["history"]] == [
            ("o-1:new", "new"),
            ("o-1:working", "working"),
            ("o-1:filled", "filled"),
        ]
        assert (
            push(client, alice_key, batch([_order("o-1:new", "2023-12-15T14:30:00Z", "new")]))[
                "duplicates"
            ]
            == 1
        )

    def test_equal_times_resolve_by_arrival(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        ts = "2023-12-15T14:30:00Z"
        push(client, alice_key, batch([_order("a", ts, "working"), _order("b", ts, "cancelled")]))
        assert _get(client, alice_key, "/api/runs/1/orders/o-1")["status"] == "cancelled"


class TestExecutions:
    def test_amend_replaces_and_remove_busts(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([
            fill("x1", "2023-12-15T14:30:00Z", "buy", 2, 4700.25),
            fill("x2", "2023-12-15T14:31:00Z", "sell", 2, 4701.0),
        ]))  # fmt: skip
        result = push(client, alice_key, batch([
            fill("x1", "2023-12-15T14:30:00Z", "buy", 2, 4700.5, op="amend", commission=0.5),
            fill("x1", "2023-12-15T14:30:00Z", "buy", 2, 4700.5, op="amend", commission=0.5),
            {"type": "execution", "op": "remove", "id": "x2"},
            {"type": "execution", "op": "remove", "id": "x2"},
        ]))  # fmt: skip
        assert (result["accepted"], result["duplicates"], result["rejected"]) == (2, 2, [])
        late_amend = fill("x2", "2023-12-15T14:31:00Z", "sell", 2, 4702.0, op="amend")
        assert push(client, alice_key, batch([late_amend]))["rejected"] == [
            {
                "index": 0,
                "id": "x2",
                "error": "id: execution 'x2' was removed; send a fill with a new id",
            }
        ]
        fills = _get(client, alice_key, "/api/runs/1/executions")["items"]
        assert [(f["id"], f["price"], f["commission"]) for f in fills] == [("x1", 4700.5, 0.5)]
        assert fills[0]["amended_at"] is not None
        every = _get(client, alice_key, "/api/runs/1/executions?include_removed=true")["items"]
        assert [(f["id"], f["removed"]) for f in every] == [("x1", False), ("x2", True)]

    def test_amend_of_an_unknown_fill_is_rejected_and_kept(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        result = push(
            client,
            alice_key,
            batch([fill("nope", "2023-12-15T14:30:00Z", "buy", 1, 1.0, op="amend")]),
        )
        assert result["rejected"] == [
            {
                "index": 0,
                "id": "nope",
                "error": "id: no execution 'nope' from source 'quantower-desk-1' to amend",
            }
        ]
        (dead,) = _get(client, alice_key, "/api/rejected-events")["items"]
        assert dead["event_id"] == "nope"
        assert '"op":"amend"' in dead["raw"]

    def test_fill_ids_are_scoped_by_source(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        x = fill("x1", "2023-12-15T14:30:00Z", "buy", 1, 100.0)
        assert push(client, alice_key, batch([x], source="a"))["accepted"] == 1
        assert push(client, alice_key, batch([x], source="b"))["accepted"] == 1
        assert push(client, alice_key, batch([x, x], source="b"))["duplicates"] == 2

    def test_out_of_order_fills_are_served_in_time_order(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([fill("late", "2023-12-15T14:35:00Z", "sell", 1, 101.0)]))
        push(client, alice_key, batch([fill("early", "2023-12-15T14:30:00Z", "buy", 1, 100.0)]))
        fills = _get(client, alice_key, "/api/runs/1/executions")["items"]
        assert [f["id"] for f in fills] == ["early", "late"]


class TestBars:
    def test_a_bar_is_replaced_by_identity_until_it_closes(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        ts = "2023-12-15T14:30:00Z"
        first = push(client, alice_key, batch([_bar(ts, 100, 101, 99.5, 100.5, volume=10)]))
        update = push(client, alice_key, batch([
            _bar(ts, 100, 102, 99.5, 101.75, volume=25),
            _bar(ts, 100, 102, 99.5, 101.75, volume=25),
        ]))  # fmt: skip
        assert first["accepted"] == 1
        assert (update["accepted"], update["duplicates"]) == (1, 1)
        context = client.app.state.context  # type: ignore[attr-defined]
        with context.db.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT high, close, volume FROM market_bar").all()
        assert [tuple(r) for r in rows] == [(102.0, 101.75, 25.0)]

    def test_run_bars_carry_values(self, client: TestClient, alice_key: dict[str, str]) -> None:
        ts = "2023-12-15T14:30:00Z"
        bar = _bar(ts, 100, 101, 99, 100.5, series="run", values={"ema": 100.2, "signal": 1})
        assert push(client, alice_key, batch([bar]))["accepted"] == 1
        assert push(client, alice_key, batch([bar]))["duplicates"] == 1
        changed = {**bar, "values": {"ema": 100.3, "signal": 1}}
        assert push(client, alice_key, batch([changed]))["accepted"] == 1
        context = client.app.state.context  # type: ignore[attr-defined]
        with context.db.engine.connect() as connection:
            market = connection.exec_driver_sql("SELECT COUNT(*) FROM market_bar").scalar()
            values = connection.exec_driver_sql('SELECT "values" FROM bar').scalar()
        assert market == 0
        assert (values if isinstance(values, dict) else __import__("json").loads(values)) == {
            "ema": 100.3,
            "signal": 1,
        }
        huge = {**bar, "ts": "2023-12-15T14:31:00Z", "values": {"count": 2**64, "ok": 1}}
        result = push(client, alice_key, batch([huge]))
        assert result["accepted"] == 0
        assert result["rejected"] == [{"index": 0, "id": None, "error": (
            "values must be finite numbers or 64-bit integers (or null), not for ['count']")}]


class TestRejections:
    def test_each_bad_event_is_named_and_kept_while_the_rest_is_stored(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events: list[Any] = [
            fill("ok", "2023-12-15T14:30:00Z", "buy", 1, 100.0),
            fill("neg", "2023-12-15T14:30:00Z", "buy", 0, 100.0),
            fill("naive", "2023-12-15T14:30:00", "buy", 1, 100.0),
            fill("secs", 1702650600, "buy", 1, 100.0),  # type: ignore[arg-type]
            fill("millis", 1702650600000, "buy", 1, 100.0),  # type: ignore[arg-type]
            fill("ns", 1702650600000000000, "sell", 1, 100.0, extra_field="ignored"),  # type: ignore[arg-type]
            {"type": "teleport", "id": "t1"},
            _bar("2023-12-15T14:30:00Z", 100, 99, 98, 100.5),
            {"type": "execution", "id": "inf", "ts": "2023-12-15T14:30:00Z", "symbol": "ES",
             "side": "short", "qty": 1, "price": -5},
            {"type": "order", "id": "o", "order_id": "o", "ts": "2023-12-15T14:30:00Z"},
        ]  # fmt: skip
        result = push(client, alice_key, batch(events))
        assert (result["accepted"], result["duplicates"]) == (2, 0)
        assert result["rejected"] == [
            {"index": 1, "id": "neg", "error": "qty: must be greater than 0"},
            {"index": 2, "id": "naive", "error": "ts: '2023-12-15T14:30:00' has no UTC offset; add 'Z' or '+HH:MM' (naive times are ambiguous)"},
            {"index": 3, "id": "secs", "error": "ts: 1702650600 looks like epoch seconds; send epoch nanoseconds or an ISO-8601 string with an offset"},
            {"index": 4, "id": "millis", "error": "ts: 1702650600000 looks like epoch milliseconds; send epoch nanoseconds or an ISO-8601 string with an offset"},
            {"index": 6, "id": "t1", "error": "type: unknown event type; expected one of instrument, order, execution, bar, run_end, cash, got 'teleport'"},
            {"index": 7, "id": None, "error": "high must be >= max(open, close, low), got high=99.0 open=100.0 close=100.5 low=98.0"},
            {"index": 8, "id": "inf", "error": "side: must be 'buy' or 'sell'; price: must be greater than 0"},
            {"index": 9, "id": "o", "error": "symbol: is required; side: is required; order_type: is required; qty: is required; status: is required"},
        ]  # fmt: skip
        dead = _get(client, alice_key, "/api/rejected-events?limit=100")["items"]
        assert sorted(d["batch_index"] for d in dead) == [1, 2, 3, 4, 6, 7, 8, 9]
        naive = next(d for d in dead if d["event_id"] == "naive")
        assert naive["raw"] == (
            '{"type":"execution","id":"naive","ts":"2023-12-15T14:30:00","symbol":"MESZ3",'
            '"side":"buy","qty":1,"price":100.0}'
        )
        assert naive["run_id"] == 1
        assert naive["source"] == "quantower-desk-1"
        # replaying the batch stores the good ones once, and keeps the bad ones again
        again = push(client, alice_key, batch(events))
        assert (again["accepted"], again["duplicates"], len(again["rejected"])) == (0, 2, 8)
