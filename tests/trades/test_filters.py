"""Narrowing trades: run, mode, tag, setup and date filters, totals of the filtered set,
bad filter values, and another user's runs (SQLite and PostgreSQL, real pipeline)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ingest.helpers import RUN, batch, fill, push

# (price moves of run A's round trips, each 1 lot bought at 100 and sold at 100 + move;
#  every fill pays 0.37 commission)
MOVES_A = ["1.25", "-0.5", "0.74", "2.1", "-1.13", "0.01"]
MOVES_B = ["3.5", "-2.25"]
COMMISSION = Decimal("0.37")


def _ts(minute: int, second: int = 0) -> str:
    return f"2023-12-15T14:{minute:02d}:{second:02d}Z"


def _round_trips(prefix: str, moves: list[str]) -> list[dict[str, Any]]:
    events = []
    for i, move in enumerate(moves):
        events += [
            fill(f"{prefix}{i}o", _ts(2 * i), "buy", 1, 100.0, commission=0.37),
            fill(f"{prefix}{i}c", _ts(2 * i, 30), "sell", 1, float(Decimal(100) + Decimal(move)),
                 commission=0.37),
        ]  # fmt: skip
    return events


def _net(moves: list[str]) -> list[Decimal]:
    """Net P&L of each round trip, computed here from the inputs (not by the service)."""
    return [Decimal(move) - 2 * COMMISSION for move in moves]


def _expected(nets: list[Decimal], open_count: int = 0) -> dict[str, Any]:
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    return {
        "trade_count": len(nets) + open_count, "open_count": open_count,
        "closed_count": len(nets), "win_count": len(wins), "loss_count": len(losses),
        "breakeven_count": len(nets) - len(wins) - len(losses),
        "net_pnl": float(sum(nets, Decimal(0))), "gross_loss": float(sum(losses, Decimal(0))),
        "gross_profit": float(sum(wins, Decimal(0))),
        "commission": float(2 * COMMISSION * len(nets)),
        "win_rate": len(wins) / len(nets) if nets else None,
    }  # fmt: skip


@pytest.fixture
def two_runs(client: TestClient, alice_key: dict[str, str]) -> tuple[int, int]:
    """Run A (live: six round trips and one open trade) and run B (backtest: two)."""
    run_a = push(client, alice_key, batch(
        [*_round_trips("a", MOVES_A), fill("open", _ts(40), "buy", 2, 100.0)], run=RUN
    ))["run_id"]  # fmt: skip
    run_b = push(client, alice_key, batch(
        _round_trips("b", MOVES_B), run={**RUN, "key": "bt-1", "mode": "backtest"}
    ))["run_id"]  # fmt: skip
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    return int(run_a), int(run_b)


def _get(client: TestClient, headers: dict[str, str], url: str) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _subset(totals: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {name: totals[name] for name in expected}


class TestTotals:
    def test_totals_of_everything_each_run_and_each_mode(
        self, client: TestClient, alice: dict[str, str], two_runs: tuple[int, int]
    ) -> None:
        run_a, run_b = two_runs
        every = _expected(_net(MOVES_A) + _net(MOVES_B), open_count=1)
        assert _subset(_get(client, alice, "/api/trades/totals"), every) == every
        only_a = _expected(_net(MOVES_A), open_count=1)
        for url in (f"/api/trades/totals?run_id={run_a}", f"/api/runs/{run_a}/trades/totals",
                    "/api/trades/totals?mode=live"):  # fmt: skip
            assert _subset(_get(client, alice, url), only_a) == only_a, url
        only_b = _expected(_net(MOVES_B))
        assert _subset(_get(client, alice, f"/api/trades/totals?run_id={run_b}"), only_b) == only_b
        totals = _get(client, alice, f"/api/runs/{run_b}/trades/totals")
        # 3.5 - 0.74 = 2.76 won, -2.25 - 0.74 = -2.99 lost
        assert totals["net_pnl"] == -0.23
        assert totals["average_net_pnl"] == -0.115
        assert totals["profit_factor"] == pytest.approx(2.76 / 2.99)
        assert totals["r_count"] == 0
        assert totals["average_r"] is None

    def test_totals_count_the_whole_filtered_set_not_the_page(
        self, client: TestClient, alice: dict[str, str], two_runs: tuple[int, int]
    ) -> None:
        run_a, _ = two_runs
        # Sum the pages of two trades each: the totals agree with the rows one by one.
        seen: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(10):
            page = _get(client, alice, f"/api/trades?run_id={run_a}&status=closed&limit=2{cursor}")
            seen += page["items"]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        totals = _get(client, alice, f"/api/trades/totals?run_id={run_a}&status=closed")
        assert len(seen) == totals["trade_count"] == 6
        assert totals["open_count"] == 0
        rows_net = sum((Decimal(str(t["net_pnl"])) for t in seen), Decimal(0))
        assert Decimal(str(totals["net_pnl"])) == rows_net == sum(_net(MOVES_A), Decimal(0))
        wins = _get(client, alice, f"/api/trades/totals?run_id={run_a}&outcome=win")
        assert (wins["trade_count"], wins["win_rate"]) == (2, 1.0)  # only 1.25 and 2.1 clear 0.74
        even = _get(client, alice, f"/api/trades/totals?run_id={run_a}&outcome=breakeven")
        assert even["trade_count"] == 1  # 0.74 - 0.74

    def test_date_range_narrows_list_and_totals(
        self, client: TestClient, alice: dict[str, str], two_runs: tuple[int, int]
    ) -> None:
        run_a, _ = two_runs
        window = f"run_id={run_a}&start={_ts(2)}&end={_ts(6)}"  # round trips 1 and 2
        items = _get(client, alice, f"/api/trades?{window}")["items"]
        assert [t["entry_ts"] for t in items] == [_ts(4), _ts(2)]
        expected = _expected(_net(MOVES_A[1:3]))
        assert _subset(_get(client, alice, f"/api/trades/totals?{window}"), expected) == expected


class TestTagAndSetup:
    def test_tag_and_setup_filters(
        self, client: TestClient, alice: dict[str, str], two_runs: tuple[int, int]
    ) -> None:
        run_a, run_b = two_runs
        trades = _get(client, alice, "/api/trades?sort=entry_ts&limit=100")["items"]
        a_first = [t for t in trades if t["run_id"] == run_a][:3]
        b_first = next(t for t in trades if t["run_id"] == run_b)
        for trade, tags, setup in ((a_first[0], ["A+", "news"], "ORB"),
                                   (a_first[1], ["news"], "fade"),
                                   (a_first[2], ["news item"], "ORB"),
                                   (b_first, ["A+"], "ORB")):  # fmt: skip
            response = client.patch(f"/api/trades/{trade['id']}", headers=alice,
                                    json={"tags": tags, "setup": setup})  # fmt: skip
            assert response.status_code == 200, response.text

        def ids(query: str) -> list[int]:
            return sorted(t["id"] for t in _get(client, alice, f"/api/trades?{query}")["items"])

        assert ids("tag=news") == sorted([a_first[0]["id"], a_first[1]["id"]])  # not "news item"
        assert ids("tag=A%2B") == sorted([a_first[0]["id"], b_first["id"]])
        assert ids(f"tag=A%2B&run_id={run_b}") == [b_first["id"]]
        assert ids("tag=news%20item") == [a_first[2]["id"]]
        assert ids("tag=nothing") == []
        assert ids("setup=ORB") == sorted([a_first[0]["id"], a_first[2]["id"], b_first["id"]])
        assert ids("setup=ORB&tag=news") == [a_first[0]["id"]]
        in_run = _get(client, alice, f"/api/runs/{run_a}/trades?tag=news")["items"]
        assert [t["tags"] for t in in_run] == [["A+", "news"], ["news"]]
        totals = _get(client, alice, "/api/trades/totals?setup=ORB")
        nets = [Decimal(str(t["net_pnl"])) for t in (a_first[0], a_first[2], b_first)]
        assert Decimal(str(totals["net_pnl"])) == sum(nets, Decimal(0))
        assert totals["trade_count"] == 3


class TestBadFilters:
    @pytest.mark.parametrize(
        ("query", "named"),
        [
            ("run_id=0", "run_id"),
            ("run_id=abc", "run_id"),
            ("tag=" + "x" * 51, "tag"),
            ("setup=" + "x" * 201, "setup"),
            ("mode=demo", "mode"),
            ("start=yesterday", "start"),
            (f"start={_ts(5)}&end={_ts(5)}", "end: must be after start"),
            ("outcome=big", "outcome"),
        ],
    )
    def test_422_names_the_field(
        self, client: TestClient, alice: dict[str, str], query: str, named: str
    ) -> None:
        for url in ("/api/trades", "/api/trades/totals"):
            response = client.get(f"{url}?{query}", headers=alice)
            assert response.status_code == 422, (url, response.text)
            assert named in response.json()["detail"], (url, response.text)

    def test_a_runs_totals_refuse_bad_values_too(
        self, client: TestClient, alice: dict[str, str], two_runs: tuple[int, int]
    ) -> None:
        response = client.get(f"/api/runs/{two_runs[0]}/trades/totals?tag=", headers=alice)
        assert response.status_code == 422, response.text
        assert "tag" in response.json()["detail"]


class TestOwnership:
    def test_another_users_run_is_not_found_and_never_counted(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str],
        two_runs: tuple[int, int],
    ) -> None:  # fmt: skip
        run_a, _ = two_runs
        for url in (f"/api/trades?run_id={run_a}", f"/api/trades/totals?run_id={run_a}",
                    f"/api/runs/{run_a}/trades/totals", f"/api/runs/{run_a}/trades"):  # fmt: skip
            assert client.get(url, headers=bob).status_code == 404, url
        totals = _get(client, bob, "/api/trades/totals")
        assert (totals["trade_count"], totals["net_pnl"], totals["win_rate"]) == (0, 0.0, None)
        assert _get(client, bob, "/api/trades?tag=news")["items"] == []
        assert client.get("/api/trades/totals").status_code == 401
