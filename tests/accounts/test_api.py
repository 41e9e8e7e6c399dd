"""Accounts, cash flows, equity and FX rates over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ingest.helpers import RUN, app_context, batch, fill, push

FUNDED = "APEX-1234"


def get(client: TestClient, headers: dict[str, str], url: str, status: int = 200) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def accounts_by_name(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return {a["name"]: a for a in get(client, headers, "/api/accounts")}


def wait_derived(client: TestClient) -> None:
    assert app_context(client).ingest.derivations.wait_idle()


def round_trip(
    prefix: str,
    day: str,
    pnl_points: float,
    *,
    account: str = "",
    symbol: str = "MESZ3",
    qty: float = 1,
) -> list[dict[str, Any]]:
    """Buy `qty` at 100 at 14:00 UTC on `day`, sell at 100 + pnl_points at 15:00."""
    return [
        fill(f"{prefix}-o", f"{day}T14:00:00Z", "buy", qty, 100.0, account=account,
             symbol=symbol),
        fill(f"{prefix}-c", f"{day}T15:00:00Z", "sell", qty, 100.0 + pnl_points,
             account=account, symbol=symbol),
    ]  # fmt: skip


def cash(flow_id: str, ts: str, kind: str, amount: float, **extra: Any) -> dict[str, Any]:
    return {"type": "cash", "id": flow_id, "ts": ts, "kind": kind, "amount": amount, **extra}


class TestAccounts:
    def test_made_on_first_sight_of_a_name_in_a_fill(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(round_trip("a", "2024-01-02", 1.0)))
        push(client, alice_key, batch(round_trip("b", "2024-01-02", 1.0, account=FUNDED)))
        push(client, alice_key, batch(round_trip("c", "2024-01-03", 1.0, account=FUNDED)))
        found = accounts_by_name(client, alice)
        assert sorted(found) == ["", FUNDED]
        assert {k: found[FUNDED][k] for k in ("base_currency", "starting_balance", "type")} == {
            "base_currency": "USD", "starting_balance": 0.0, "type": "cash"
        }  # fmt: skip

    def test_create_update_delete_by_hand(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        created = client.post(
            "/api/accounts",
            json={"name": "IBKR", "base_currency": "EUR", "starting_balance": 25000.5,
                  "broker": "Interactive Brokers", "type": "margin"},
            headers=alice,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        account = created.json()
        assert (account["name"], account["base_currency"], account["starting_balance"]) == (
            "IBKR", "EUR", 25000.5
        )  # fmt: skip
        again = client.post("/api/accounts", json={"name": "IBKR"}, headers=alice)
        assert again.status_code == 409
        assert again.json()["detail"] == "name: an account named 'IBKR' exists already"
        patched = client.patch(
            f"/api/accounts/{account['id']}",
            json={"type": "funded", "starting_balance": 50000, "broker": None},
            headers=alice,
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["type"], patched.json()["starting_balance"]) == ("funded", 50000)
        assert patched.json()["broker"] is None
        # a name that fills carry cannot be renamed or deleted
        push(client, alice_key, batch(round_trip("r", "2024-01-02", 1.0, account="IBKR")))
        renamed = client.patch(f"/api/accounts/{account['id']}", json={"name": "IB"}, headers=alice)
        assert renamed.status_code == 409
        assert renamed.json()["detail"] == (
            "name: 2 fills and 0 cash flows carry the name 'IBKR', so it cannot change "
            "(they find their account by it)"
        )
        deleted = client.delete(f"/api/accounts/{account['id']}", headers=alice)
        assert deleted.status_code == 409
        spare = client.post("/api/accounts", json={"name": "spare"}, headers=alice).json()
        assert client.delete(f"/api/accounts/{spare['id']}", headers=alice).status_code == 204
        assert get(client, alice, f"/api/accounts/{spare['id']}", 404)["error"] == "not_found"

    def test_bad_input_names_field_and_value(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/accounts", json={"name": "x", "base_currency": "usd"}, headers=alice
        )
        assert response.status_code == 422
        assert "must be three capital letters (ISO 4217, e.g. USD), got 'usd'" in response.text
        response = client.post("/api/accounts", json={"name": "x", "type": "prop"}, headers=alice)
        assert response.status_code == 422
        assert "type" in response.text

    def test_another_users_account_is_not_found(
        self,
        client: TestClient,
        alice: dict[str, str],
        alice_key: dict[str, str],
        bob: dict[str, str],
    ) -> None:
        push(client, alice_key, batch(round_trip("a", "2024-01-02", 1.0, account=FUNDED)))
        account_id = accounts_by_name(client, alice)[FUNDED]["id"]
        assert get(client, bob, "/api/accounts") == []
        for method, url, body in (
            ("GET", f"/api/accounts/{account_id}", None),
            ("PATCH", f"/api/accounts/{account_id}", {"type": "margin"}),
            ("DELETE", f"/api/accounts/{account_id}", None),
            ("GET", f"/api/accounts/{account_id}/equity", None),
            ("GET", f"/api/accounts/{account_id}/cash", None),
            ("POST", f"/api/accounts/{account_id}/cash",
             {"kind": "deposit", "amount": 1, "ts": "2024-01-02T00:00:00Z"}),
        ):  # fmt: skip
            response = client.request(method, url, json=body, headers=bob)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["detail"] == f"account {account_id} not found"

    def test_needs_credentials(self, client: TestClient) -> None:
        assert client.get("/api/accounts").status_code == 401
        assert client.get("/api/fx-rates").status_code == 401


class TestCashIngest:
    def test_cash_events_through_ingest_are_idempotent(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        events = [
            cash("dep-1", "2024-01-02T09:00:00Z", "deposit", 5000, account=FUNDED),
            cash("fee-1", "2024-01-31T23:00:00Z", "fee", 12.5, account=FUNDED,
                 note="data feed"),
        ]  # fmt: skip
        first = push(client, alice_key, batch(events))
        assert (first["accepted"], first["duplicates"], first["rejected"]) == (2, 0, [])
        again = push(client, alice_key, batch(events))
        assert (again["accepted"], again["duplicates"]) == (0, 2)
        account = accounts_by_name(client, alice)[FUNDED]  # made on first sight, by cash
        flows = get(client, alice, f"/api/accounts/{account['id']}/cash")
        assert [(f["flow_id"], f["kind"], f["amount"], f["currency"], f["ts"], f["note"])
                for f in flows] == [
            ("dep-1", "deposit", 5000.0, "USD", "2024-01-02T09:00:00Z", None),
            ("fee-1", "fee", 12.5, "USD", "2024-01-31T23:00:00Z", "data feed"),
        ]  # fmt: skip
        # amend, replay the amend, remove, replay the remove
        amend = cash("dep-1", "2024-01-02T09:00:00Z", "deposit", 6000, account=FUNDED,
                     op="amend")  # fmt: skip
        assert push(client, alice_key, batch([amend]))["accepted"] == 1
        assert push(client, alice_key, batch([amend]))["duplicates"] == 1
        removal = {"type": "cash", "op": "remove", "id": "fee-1"}
        assert push(client, alice_key, batch([removal]))["accepted"] == 1
        assert push(client, alice_key, batch([removal]))["duplicates"] == 1
        flows = get(client, alice, f"/api/accounts/{account['id']}/cash?include_removed=true")
        assert [(f["flow_id"], f["amount"], f["removed"]) for f in flows] == [
            ("dep-1", 6000.0, False), ("fee-1", 12.5, True)
        ]  # fmt: skip
        equity = get(client, alice, f"/api/accounts/{account['id']}/equity")
        assert equity["summary"]["deposits"] == 6000.0
        assert equity["summary"]["fees"] == 0.0
        assert equity["summary"]["equity"] == 6000.0

    def test_bad_cash_events_are_rejected_each_with_its_reason(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        result = push(client, alice_key, batch([
            cash("c1", "2024-01-02T09:00:00Z", "bonus", 10),
            cash("c2", "2024-01-02T09:00:00Z", "deposit", 0, currency="eur"),
            cash("c3", "2024-01-02T09:00:00Z", "deposit", 2e10),
            {"type": "cash", "op": "remove", "id": "never-sent"},
            {"type": "cash", "id": "c4", "op": "amend", "ts": "2024-01-02T09:00:00Z",
             "kind": "deposit", "amount": 1},
            cash("ok", "2024-01-02T09:00:00Z", "deposit", 1),
        ]))  # fmt: skip
        assert result["accepted"] == 1
        assert [(r["index"], r["error"]) for r in result["rejected"]] == [
            (0, "kind: must be 'deposit', 'withdrawal', 'fee' or 'payout'"),
            (1, "amount: must be greater than 0; currency: must be three capital letters "
                "(ISO 4217, e.g. USD), got 'eur'"),
            (2, "amount: must be at most 10,000,000,000, got 20000000000.0"),
            (3, "id: no cash flow 'never-sent' from source 'quantower-desk-1' to remove"),
            (4, "id: no cash flow 'c4' from source 'quantower-desk-1' to amend"),
        ]  # fmt: skip

    def test_cash_entered_by_hand(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        account = client.post("/api/accounts", json={"name": "desk"}, headers=alice).json()
        url = f"/api/accounts/{account['id']}/cash"
        body = {"kind": "withdrawal", "amount": 250.25, "ts": "2024-02-01T10:00:00+01:00",
                "id": "w-1", "note": "rent"}  # fmt: skip
        created = client.post(url, json=body, headers=alice)
        assert created.status_code == 201, created.text
        assert (created.json()["ts"], created.json()["source"]) == (
            "2024-02-01T09:00:00Z", "manual"
        )  # fmt: skip
        resent = client.post(url, json=body, headers=alice)
        assert (resent.status_code, resent.json()["id"]) == (200, created.json()["id"])
        bad = client.post(url, json={**body, "id": "w-2", "ts": "2024-02-01T10:00:00"},
                          headers=alice)  # fmt: skip
        assert bad.status_code == 422
        assert bad.json()["detail"].startswith("ts: ")
        assert len(get(client, alice, url)) == 1
        gone = client.delete(f"{url}/{created.json()['id']}", headers=alice)
        assert gone.status_code == 204
        assert get(client, alice, url) == []
        assert client.delete(f"{url}/{created.json()['id']}", headers=alice).status_code == 404


class TestEquity:
    def test_deposit_is_not_profit(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        # 10,000 start; +1,000 (10 %) on Jan 2; 11,000 deposited Jan 3; +2,200 (10 %) Jan 4;
        # 4,000 withdrawn Jan 5; -2,020 (-10 % of 20,200) Jan 8
        push(client, alice_key, batch(
            round_trip("t1", "2024-01-02", 100.0, account=FUNDED, qty=10)
            + [cash("d1", "2024-01-03T12:00:00Z", "deposit", 11_000, account=FUNDED)]
            + round_trip("t2", "2024-01-04", 110.0, account=FUNDED, qty=20)
            + [cash("w1", "2024-01-05T12:00:00Z", "withdrawal", 4_000, account=FUNDED)]
            + round_trip("t3", "2024-01-08", -20.2, account=FUNDED, qty=100)
        ))  # fmt: skip
        wait_derived(client)
        account = accounts_by_name(client, alice)[FUNDED]
        client.patch(f"/api/accounts/{account['id']}", json={"starting_balance": 10_000},
                     headers=alice)  # fmt: skip
        equity = get(client, alice, f"/api/accounts/{account['id']}/equity")
        summary = equity["summary"]
        assert equity["currency"] == "USD"
        assert {k: summary[k] for k in (
            "starting_balance", "deposits", "withdrawals", "net_cash_flow", "realised_pnl",
            "open_pnl", "equity", "trade_count", "max_drawdown_amount",
        )} == {
            "starting_balance": 10_000.0, "deposits": 11_000.0, "withdrawals": -4_000.0,
            "net_cash_flow": 7_000.0, "realised_pnl": 1_180.0, "open_pnl": 0.0,
            "equity": 18_180.0, "trade_count": 3, "max_drawdown_amount": -2_020.0,
        }  # fmt: skip
        assert summary["time_weighted_return"] == pytest.approx(1.1 * 1.1 * 0.9 - 1, abs=1e-12)
        assert summary["max_drawdown"] == pytest.approx(-0.1, abs=1e-12)
        assert [(p["kind"], p["change"], p["equity"]) for p in equity["curve"]] == [
            ("trade", 1_000.0, 11_000.0), ("deposit", 11_000.0, 22_000.0),
            ("trade", 2_200.0, 24_200.0), ("withdrawal", -4_000.0, 20_200.0),
            ("trade", -2_020.0, 18_180.0),
        ]  # fmt: skip

    def test_backtests_do_not_count_and_open_trades_are_marked(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        backtest = {**RUN, "key": "bt", "mode": "backtest"}
        push(client, alice_key, batch(round_trip("bt", "2024-01-02", 50.0, account=FUNDED),
                                      run=backtest))  # fmt: skip
        push(client, alice_key, batch([
            fill("o1", "2024-01-03T14:00:00Z", "buy", 2, 100.0, account=FUNDED,
                 commission=1.25),
            {"type": "bar", "symbol": "MESZ3", "timeframe": "1m", "ts": "2024-01-03T14:05:00Z",
             "open": 100, "high": 104, "low": 99, "close": 103.5},
        ]))  # fmt: skip
        wait_derived(client)
        account = accounts_by_name(client, alice)[FUNDED]
        summary = get(client, alice, f"/api/accounts/{account['id']}/equity")["summary"]
        # 2 * 3.5 marked, less the entry's commission; the backtest's +50 not counted
        assert (summary["realised_pnl"], summary["open_pnl"], summary["equity"]) == (
            0.0, 5.75, 5.75
        )  # fmt: skip
        assert (summary["trade_count"], summary["open_trade_count"]) == (0, 1)
        assert summary["unmarked_symbols"] == []


class TestCurrencies:
    @pytest.fixture
    def euro_trade(self, client: TestClient, alice_key: dict[str, str]) -> None:
        """+1,000 EUR realised on Wednesday 2024-01-03 in a USD account."""
        push(client, alice_key, batch(
            [{"type": "instrument", "symbol": "FDXM", "multiplier": 5, "currency": "EUR"}]
            + round_trip("fx", "2024-01-03", 200.0, account=FUNDED, symbol="FDXM")
        ))  # fmt: skip
        wait_derived(client)

    def fx_bar(self, symbol: str, day: str, close: float) -> dict[str, Any]:
        return {"type": "bar", "symbol": symbol, "timeframe": "1d", "ts": f"{day}T00:00:00Z",
                "open": close, "high": close, "low": close, "close": close}  # fmt: skip

    @pytest.mark.usefixtures("euro_trade")
    def test_converted_at_the_realisation_days_rate(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([
            self.fx_bar("EURUSD", "2024-01-02", 1.10), self.fx_bar("EURUSD", "2024-01-03", 1.0951),
            self.fx_bar("EURUSD", "2024-01-04", 1.09),
        ]))  # fmt: skip
        account = accounts_by_name(client, alice)[FUNDED]
        summary = get(client, alice, f"/api/accounts/{account['id']}/equity")["summary"]
        assert summary["realised_pnl"] == 1095.1
        # a rate entered by hand for that day wins over the bar
        put = client.put("/api/fx-rates", json={"base": "EUR", "quote": "USD",
                                                "day": "2024-01-03", "rate": 1.0827},
                         headers=alice)  # fmt: skip
        assert put.status_code == 201, put.text
        summary = get(client, alice, f"/api/accounts/{account['id']}/equity")["summary"]
        assert summary["realised_pnl"] == 1082.7
        updated = client.put("/api/fx-rates", json={"base": "EUR", "quote": "USD",
                                                    "day": "2024-01-03", "rate": 1.2},
                             headers=alice)  # fmt: skip
        assert (updated.status_code, updated.json()["id"]) == (200, put.json()["id"])
        rates = get(client, alice, "/api/fx-rates?base=EUR")
        assert [(r["base"], r["quote"], r["day"], r["rate"]) for r in rates] == [
            ("EUR", "USD", "2024-01-03", 1.2)
        ]
        # an EUR account reads the same trade without a rate; the inverse pair converts
        # a USD deposit into it
        client.patch(f"/api/accounts/{account['id']}", json={"base_currency": "EUR"},
                     headers=alice)  # fmt: skip
        push(client, alice_key, batch([
            cash("usd-in", "2024-01-04T10:00:00Z", "deposit", 1090, currency="USD",
                 account=FUNDED),
        ]))  # fmt: skip
        equity = get(client, alice, f"/api/accounts/{account['id']}/equity")
        assert equity["currency"] == "EUR"
        assert (equity["summary"]["realised_pnl"], equity["summary"]["deposits"]) == (
            1000.0, 1000.0
        )  # fmt: skip

    @pytest.mark.usefixtures("euro_trade")
    def test_a_missing_rate_is_named_not_added(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch([self.fx_bar("EURUSD", "2023-12-29", 1.10)]))
        account = accounts_by_name(client, alice)[FUNDED]
        response = client.get(f"/api/accounts/{account['id']}/equity", headers=alice)
        assert response.status_code == 422
        assert response.json() == {
            "error": "missing_rate",
            "detail": f"account {FUNDED!r} (USD): no rate for EURUSD on 2024-01-03 (nor in "
            "the 3 days before): push EURUSD 1d bars or enter the rate with PUT /api/fx-rates",
            "missing_rates": [{"pair": "EURUSD", "day": "2024-01-03"}],
        }

    def test_fx_rate_input(self, client: TestClient, alice: dict[str, str]) -> None:
        same = client.put("/api/fx-rates", json={"base": "EUR", "quote": "EUR",
                                                 "day": "2024-01-03", "rate": 1},
                          headers=alice)  # fmt: skip
        assert same.status_code == 422
        assert same.json()["detail"] == "quote: must differ from base, got EUR/EUR"
        negative = client.put("/api/fx-rates", json={"base": "EUR", "quote": "USD",
                                                     "day": "2024-01-03", "rate": -1},
                              headers=alice)  # fmt: skip
        assert negative.status_code == 422
        assert client.delete("/api/fx-rates/999", headers=alice).status_code == 404


class TestAccountFilter:
    def test_trades_portfolio_and_breakdowns_of_one_account(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(
            round_trip("d", "2024-01-02", 1.5)
            + round_trip("f1", "2024-01-03", 2.25, account=FUNDED)
            + round_trip("f2", "2024-01-04", -0.5, account=FUNDED, symbol="MNQZ3")
        ))  # fmt: skip
        wait_derived(client)
        trades = get(client, alice, f"/api/trades?account={FUNDED}&sort=entry_ts")["items"]
        assert [(t["account"], t["net_pnl"]) for t in trades] == [(FUNDED, 2.25), (FUNDED, -0.5)]
        default = get(client, alice, "/api/trades?account=")["items"]
        assert [(t["account"], t["net_pnl"]) for t in default] == [("", 1.5)]
        portfolio = get(client, alice, f"/api/portfolio?account={FUNDED}")
        assert (portfolio["account"], portfolio["metrics"]["net_pnl"]) == (FUNDED, 1.75)
        assert portfolio["metrics"]["trade_count"] == 2
        assert get(client, alice, "/api/portfolio")["metrics"]["net_pnl"] == 3.25
        groups = get(client, alice, f"/api/portfolio/breakdowns?by=symbol&account={FUNDED}")
        assert {g["key"]: g["net_pnl"] for g in groups["groups"]} == {
            "MESZ3": 2.25, "MNQZ3": -0.5
        }  # fmt: skip
