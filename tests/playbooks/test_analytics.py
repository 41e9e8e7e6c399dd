"""Analytics by playbook and by rule followed/broken equal the same metric code run on the
filtered trades (picked here from the trades' journals, not by the service's query), and
small sets are checked by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from backend.analytics.breakdowns import core_metrics
from backend.analytics.service import metrics_document, trade_table
from backend.ingest.timestamps import parse_ts
from tests.ingest.helpers import app_context
from tests.playbooks.helpers import MOVES_A, MOVES_B, STRATEGY_A, Runs, get, net
from tests.playbooks.test_api import ORB, create, put_journal


@pytest.fixture
def ticked(client: TestClient, alice: dict[str, str], runs: Runs) -> dict[str, Any]:
    """ORB (run A's strategy) with rules r1, r2; run A's trade 5 assigned to Scalp by hand.

    ticks: a0 r1 followed, r2 broken; a1 r1 broken; a2 r1 followed; a3 r2 followed."""
    orb = create(client, alice, {**ORB, "strategy": STRATEGY_A})
    scalp = create(client, alice, {"name": "Scalp"})
    r1, r2 = orb["rules"][0]["id"], orb["rules"][1]["id"]
    a = runs.a
    put_journal(client, alice, a[0], {"rules": [{"rule_id": r1, "followed": True},
                                               {"rule_id": r2, "followed": False}]})  # fmt: skip
    put_journal(client, alice, a[1], {"rules": [{"rule_id": r1, "followed": False}]})
    put_journal(client, alice, a[2], {"rules": [{"rule_id": r1, "followed": True}]})
    put_journal(client, alice, a[3], {"rules": [{"rule_id": r2, "followed": True}]})
    put_journal(client, alice, a[5], {"playbook_id": scalp["id"]})
    return {"orb": orb, "scalp": scalp, "r1": r1, "r2": r2}


def _metrics_of(client: TestClient, alice: dict[str, str], trade_ids: list[int]) -> Any:
    """The run metrics' code on the closed trades `trade_ids`, picked by their entry times."""
    entries = {parse_ts(get(client, alice, f"/api/trades/{t}")["entry_ts"]) for t in trade_ids}
    with app_context(client).db.session() as session:
        every = trade_table(session, 1, None)
    rows = np.flatnonzero(np.isin(every.entry_ts, list(entries)))
    assert rows.size == len(trade_ids)
    return every.take(rows)


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "computed_at"}


class TestPlaybookAnalytics:
    def test_metrics_are_the_run_metrics_of_the_playbooks_trades(
        self, client: TestClient, alice: dict[str, str], runs: Runs, ticked: dict[str, Any]
    ) -> None:
        orb = ticked["orb"]
        result = get(client, alice, f"/api/playbooks/{orb['id']}/analytics")
        # the journals say which trades are ORB's
        mine = [t for t in runs.a + runs.b
                if get(client, alice, f"/api/trades/{t}")["journal"]["playbook_id"] == orb["id"]]  # fmt: skip
        assert mine == runs.a[:5]
        expected = metrics_document(_metrics_of(client, alice, mine), None)
        assert (result["playbook_id"], result["trades"]) == (orb["id"], 5)
        # the document's confidence block is served beside the metrics, typed
        served = {**result["metrics"], "confidence": result["confidence"]}
        assert _without_time(served) == _without_time(expected)
        assert result["confidence"]["intervals"]["win_rate"]["n"] == 5
        # by hand: five round trips of run A
        assert result["metrics"]["net_pnl"] == float(sum(net(m) for m in MOVES_A[:5]))
        assert result["metrics"]["trade_count"] == 5

    def test_each_rule_followed_against_broken(
        self, client: TestClient, alice: dict[str, str], runs: Runs, ticked: dict[str, Any]
    ) -> None:
        result = get(client, alice, f"/api/playbooks/{ticked['orb']['id']}/analytics")
        by_rule = {r["rule_id"]: r for r in result["rules"]}
        a = runs.a
        picked = {
            (ticked["r1"], "followed"): [a[0], a[2]], (ticked["r1"], "broken"): [a[1]],
            (ticked["r2"], "followed"): [a[3]], (ticked["r2"], "broken"): [a[0]],
        }  # fmt: skip
        for (rule, side), ids in picked.items():
            values = core_metrics(_metrics_of(client, alice, ids))
            assert by_rule[rule][side] == {
                "trades": values["trade_count"], "net_pnl": values["net_pnl"],
                "win_rate": values["win_rate"], "expectancy": values["expectancy"],
                "profit_factor": values["profit_factor"],
            }, (rule, side)  # fmt: skip
        # by hand: r1 followed = a0 (1.25 - 0.74 = 0.51) and a2 (0.74 - 0.74 = 0)
        followed = by_rule[ticked["r1"]]["followed"]
        assert (followed["trades"], followed["net_pnl"], followed["win_rate"],
                followed["expectancy"]) == (2, 0.51, 0.5, 0.255)  # fmt: skip
        # r1 broken = a1 (-0.5 - 0.74 = -1.24)
        broken = by_rule[ticked["r1"]]["broken"]
        assert (broken["trades"], broken["net_pnl"], broken["win_rate"],
                broken["expectancy"]) == (1, -1.24, 0.0, -1.24)  # fmt: skip
        # the third rule has no ticks: empty sets on both sides
        third = by_rule[ticked["orb"]["rules"][2]["id"]]
        assert third["followed"]["trades"] == third["broken"]["trades"] == 0
        assert third["followed"]["net_pnl"] == 0.0

    def test_breakdowns_by_playbook(
        self, client: TestClient, alice: dict[str, str], runs: Runs, ticked: dict[str, Any]
    ) -> None:
        run = get(client, alice, f"/api/runs/{runs.run_a}/breakdowns?by=playbook")
        groups = {g["key"]: (g["trade_count"], g["net_pnl"]) for g in run["groups"]}
        assert groups == {
            ORB["name"]: (5, float(sum(net(m) for m in MOVES_A[:5]))),
            "Scalp": (1, float(net(MOVES_A[5]))),
        }
        portfolio = get(client, alice, "/api/portfolio/breakdowns?by=playbook")
        groups = {g["key"]: (g["trade_count"], g["net_pnl"]) for g in portfolio["groups"]}
        assert groups["No playbook"] == (2, float(sum((net(m) for m in MOVES_B), Decimal(0))))
        assert set(groups) == {ORB["name"], "Scalp", "No playbook"}
        # each group's metrics are the core metrics of its trades
        orb_group = next(g for g in portfolio["groups"] if g["key"] == ORB["name"])
        assert {k: v for k, v in orb_group.items() if k != "key"} == core_metrics(
            _metrics_of(client, alice, runs.a[:5])
        )

    def test_breakdowns_by_mistake_show_what_each_costs(
        self, client: TestClient, alice: dict[str, str], runs: Runs
    ) -> None:
        fomo = client.post("/api/mistakes", json={"name": "FOMO"}, headers=alice).json()
        stop = client.post("/api/mistakes", json={"name": "moved stop"}, headers=alice).json()
        a = runs.a
        put_journal(client, alice, a[1], {"mistake_ids": [fomo["id"], stop["id"]]})
        put_journal(client, alice, a[4], {"mistake_ids": [stop["id"]]})
        run = get(client, alice, f"/api/runs/{runs.run_a}/breakdowns?by=mistake")
        groups = {g["key"]: (g["trade_count"], g["net_pnl"]) for g in run["groups"]}
        # by hand: a1 = -0.5 - 0.74, a4 = -1.13 - 0.74; a trade sits in each of its groups
        assert groups == {
            "FOMO": (1, -1.24),
            "moved stop": (2, float(Decimal("-1.24") + Decimal("-1.87"))),
            "No mistake": (4, float(sum(net(m) for i, m in enumerate(MOVES_A) if i not in (1, 4)))),
        }
        stop_group = next(g for g in run["groups"] if g["key"] == "moved stop")
        assert {k: v for k, v in stop_group.items() if k != "key"} == core_metrics(
            _metrics_of(client, alice, [a[1], a[4]])
        )
        portfolio = get(client, alice, "/api/portfolio/breakdowns?by=mistake")
        assert {g["key"]: g["trade_count"] for g in portfolio["groups"]} == {
            "FOMO": 1, "moved stop": 2, "No mistake": 6,
        }  # fmt: skip
