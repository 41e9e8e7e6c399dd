"""Instruments are never changed behind the user's back (issue 24).

On SQLite and PostgreSQL, in process: a PATCH that would re-price existing trades
answers 409 with the runs and trades it touches and changes nothing until
`?confirm=true`; one that re-prices nothing applies at once; an ingest `instrument`
event with a new multiplier for a symbol that has trades is dead-lettered (the
stored instrument kept); each trade records the multiplier it was priced with,
and migration 0011 backfills it. Every figure is recomputed by hand here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.ingest.helpers import app_context, batch, fill, push

T = "2024-03-04T14:{:02d}:00Z"
ES_RUN = {"key": "es-1", "strategy": "ORB", "mode": "live"}


def _settle(client: TestClient) -> None:
    assert app_context(client).ingest.derivations.wait_idle()


def _round_trips(prefix: str, symbol: str = "ES") -> list[dict[str, Any]]:
    """Long 2 @ 100 → 103, short 1 @ 104 → 101.5: 3 x 2 + 2.5 x 1 = 8.5 points, 0.5 a fill."""
    return [
        fill(f"{prefix}1", T.format(1), "buy", 2, 100, symbol=symbol, commission=0.5),
        fill(f"{prefix}2", T.format(2), "sell", 2, 103, symbol=symbol, commission=0.5),
        fill(f"{prefix}3", T.format(3), "sell", 1, 104, symbol=symbol, commission=0.5),
        fill(f"{prefix}4", T.format(4), "buy", 1, 101.5, symbol=symbol, commission=0.5),
    ]


def _net(client: TestClient, headers: dict[str, str]) -> list[tuple[str, float, float]]:
    items = client.get("/api/trades?sort=entry_ts&limit=100", headers=headers).json()["items"]
    return [(t["symbol"], t["net_pnl"], t["multiplier"]) for t in items]


def _instrument(client: TestClient, headers: dict[str, str], symbol: str) -> dict[str, Any]:
    response = client.get(f"/api/instruments/{symbol}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


class TestConfirm:
    def test_a_re_pricing_change_says_what_it_touches_and_waits_for_confirmation(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        instrument = {"type": "instrument", "symbol": "ES", "multiplier": 50, "tick_size": 0.25}
        push(client, alice_key, batch([instrument, *_round_trips("a")], source="desk", run=ES_RUN))
        push(client, alice_key, batch(_round_trips("b"), source="desk",
                                      run={**ES_RUN, "key": "es-2"}))  # fmt: skip
        _settle(client)
        # 8.5 points x 50 = 425 gross over two trades; 4 fills x 0.5 commission each run
        assert _net(client, alice) == [("ES", 299.0, 50.0), ("ES", 299.0, 50.0),
                                       ("ES", 124.0, 50.0), ("ES", 124.0, 50.0)]  # fmt: skip
        before = _instrument(client, alice, "ES")
        assert (before["run_count"], before["trade_count"]) == (2, 4)

        refused = client.patch("/api/instruments/ES", json={"multiplier": 5}, headers=alice)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "conflict"
        assert body["affected"] == {"runs": 2, "trades": 4}
        assert body["changes"] == {"multiplier": {"from": 50.0, "to": 5.0}}
        assert body["detail"] == (
            "ES: multiplier 50 → 5 re-prices 4 trades in 2 runs (their P&L, R and excursions "
            "are derived again); nothing was changed: send the same request with "
            "?confirm=true to apply it"
        )
        _settle(client)
        assert _instrument(client, alice, "ES") == before
        assert [t[1] for t in _net(client, alice)] == [299.0, 299.0, 124.0, 124.0]

        applied = client.patch("/api/instruments/ES?confirm=true", json={"multiplier": 5},
                               headers=alice)  # fmt: skip
        assert applied.status_code == 200, applied.text
        assert applied.json()["multiplier"] == 5.0
        _settle(client)
        # 3 x 2 x 5 - 1 = 29 and 2.5 x 1 x 5 - 1 = 11.5
        assert _net(client, alice) == [("ES", 29.0, 5.0), ("ES", 29.0, 5.0),
                                       ("ES", 11.5, 5.0), ("ES", 11.5, 5.0)]  # fmt: skip

    def test_what_re_prices_nothing_applies_at_once(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        push(client, alice_key, batch(_round_trips("a"), source="desk", run=ES_RUN))
        _settle(client)
        # tick size, currency and asset class price nothing: no confirmation, no re-derivation
        response = client.patch(
            "/api/instruments/ES", json={"tick_size": 0.25, "currency": "USD"}, headers=alice
        )
        assert response.status_code == 200, response.text
        assert (response.json()["multiplier"], response.json()["tick_size"]) == (1.0, 0.25)
        # a symbol without trades: nothing to re-price
        response = client.patch("/api/instruments/NQ", json={"multiplier": 20}, headers=alice)
        assert response.status_code == 200, response.text
        assert response.json()["trade_count"] == 0
        # a default risk re-prices R of the trades already there: confirm first
        refused = client.patch("/api/instruments/ES", json={"default_risk": 2}, headers=alice)
        assert refused.status_code == 409
        assert refused.json()["changes"] == {"default_risk": {"from": None, "to": 2.0}}
        _settle(client)
        assert [t[1] for t in _net(client, alice)] == [5.0, 1.5]  # 6 - 1 and 2.5 - 1

    def test_each_user_has_their_own_instruments(
        self,
        client: TestClient,
        alice: dict[str, str],
        alice_key: dict[str, str],
        bob: dict[str, str],
    ) -> None:
        instrument = {"type": "instrument", "symbol": "ES", "multiplier": 50}
        push(client, alice_key, batch([instrument, *_round_trips("a")], source="desk", run=ES_RUN))
        _settle(client)
        assert client.get("/api/instruments", headers=bob).json() == []
        assert client.get("/api/instruments/ES", headers=bob).status_code == 404
        # bob's ES is his own: alice's trades are none of his, so nothing to confirm
        response = client.patch("/api/instruments/ES", json={"multiplier": 5}, headers=bob)
        assert response.status_code == 200, response.text
        assert (response.json()["run_count"], response.json()["trade_count"]) == (0, 0)
        _settle(client)
        assert _instrument(client, alice, "ES")["multiplier"] == 50.0
        assert [t[1] for t in _net(client, alice)] == [299.0, 124.0]

    def test_bad_input_names_the_field(self, client: TestClient, alice: dict[str, str]) -> None:
        response = client.patch("/api/instruments/ES", json={"multiplier": 0}, headers=alice)
        assert response.status_code == 422
        assert "multiplier" in response.json()["detail"]
        response = client.patch(f"/api/instruments/{'X' * 65}", json={"multiplier": 2},
                                headers=alice)  # fmt: skip
        assert response.status_code == 422
        assert response.json()["detail"] == "symbol: must be 1 to 64 characters, got 65"


class TestIngest:
    def test_a_new_multiplier_for_a_symbol_with_trades_is_dead_lettered(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        instrument = {"type": "instrument", "symbol": "ES", "multiplier": 50, "tick_size": 0.25}
        push(client, alice_key, batch([instrument, *_round_trips("a")], source="desk", run=ES_RUN))
        _settle(client)
        # an exporter sending the same instrument again, or a new currency, is fine
        again = push(client, alice_key, batch(
            [instrument, {"type": "instrument", "symbol": "ES", "currency": "USD"}],
            source="desk", run=ES_RUN,
        ))  # fmt: skip
        assert (again["accepted"], again["duplicates"], again["rejected"]) == (1, 1, [])
        # a CLI backtest pushing multiplier 1 would re-price alice's trades: refused, kept
        result = push(client, alice_key, batch(
            [{"type": "instrument", "symbol": "ES", "multiplier": 1, "tick_size": 0.01}],
            source="backtester", run={"key": "bt-1", "strategy": "ma_cross", "mode": "backtest"},
        ))  # fmt: skip
        assert result["accepted"] == 0
        assert result["rejected"] == [{
            "index": 0, "id": None,
            "error": "multiplier: ES has 2 trades in 1 run priced at multiplier 50; 1 would "
            "re-price them, so the stored instrument is kept (change it with PATCH "
            "/api/instruments/ES?confirm=true)",
        }]  # fmt: skip
        dead = client.get("/api/rejected-events", headers=alice).json()["items"]
        assert [(d["event_type"], d["error"][:40]) for d in dead] == [
            ("instrument", "multiplier: ES has 2 trades in 1 run pri")
        ]
        stored = _instrument(client, alice, "ES")
        assert (stored["multiplier"], stored["tick_size"], stored["currency"]) == (
            50.0, 0.25, "USD"
        )  # fmt: skip
        _settle(client)
        assert [t[1] for t in _net(client, alice)] == [299.0, 124.0]

    def test_before_any_trade_an_exporter_may_still_set_the_multiplier(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        for multiplier in (1, 5):
            result = push(client, alice_key, batch(
                [{"type": "instrument", "symbol": "MES", "multiplier": multiplier}],
                source="desk", run=ES_RUN,
            ))  # fmt: skip
            assert (result["accepted"], result["rejected"]) == (1, []), result
        push(client, alice_key, batch(_round_trips("m", "MES"), source="desk", run=ES_RUN))
        _settle(client)
        assert _net(client, alice) == [("MES", 29.0, 5.0), ("MES", 11.5, 5.0)]


class TestMigration:
    def test_0011_backfills_each_trade_with_its_instrument_multiplier(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        from alembic import command

        from backend.db.migrate import alembic_config, upgrade

        instrument = {"type": "instrument", "symbol": "ES", "multiplier": 50}
        push(client, alice_key, batch(
            [instrument, *_round_trips("a"), *_round_trips("n", "NQ")], source="desk", run=ES_RUN
        ))  # fmt: skip
        _settle(client)
        engine = app_context(client).db.engine
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0010_derivation_claims")
            connection.commit()
        upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT symbol, multiplier, net_pnl FROM trade ORDER BY symbol, entry_ts")
            ).all()
        # ES from its instrument (50), NQ has none: priced at 1, backfilled with 1
        assert [(r[0], r[1], Decimal(str(r[2]))) for r in rows] == [
            ("ES", 50.0, Decimal("299")), ("ES", 50.0, Decimal("124")),
            ("NQ", 1.0, Decimal("5")), ("NQ", 1.0, Decimal("1.5")),
        ]  # fmt: skip
