"""Confidence intervals through the real app (SQLite and PostgreSQL): metrics and breakdowns."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from backend.analytics.confidence import trade_intervals, wilson
from tests.ingest.helpers import RUN, batch, fill, push


def _trades(count: int) -> list[dict[str, Any]]:
    """`count` round trips of 1 unit: longs (even) and shorts (odd); every third loses 2,
    the others win 3."""
    events = []
    for i in range(count):
        side, back = ("buy", "sell") if i % 2 == 0 else ("sell", "buy")
        move = -2.0 if i % 3 == 0 else 3.0
        out = 100 + move if side == "buy" else 100 - move
        day, hour = 4 + i // 8, 13 + i % 8
        events.append(fill(f"c{i}-in", f"2024-03-{day:02d}T{hour}:00:00Z", side, 1, 100.0))
        events.append(fill(f"c{i}-out", f"2024-03-{day:02d}T{hour}:30:00Z", back, 1, out))
    return events


def _net(count: int) -> np.ndarray:
    return np.array([-2.0 if i % 3 == 0 else 3.0 for i in range(count)])


class TestConfidenceApi:
    def test_metrics_carry_intervals_and_the_psr(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        run_id = int(push(client, alice_key, batch(_trades(40), run={**RUN, "initial_capital": 1000}))["run_id"])
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        body = client.get(f"/api/runs/{run_id}/metrics", headers=alice_key).json()
        assert (body["trade_count"], body["win_rate"]) == (40, 26 / 40)
        confidence = body["confidence"]
        assert confidence["level"] == 0.95
        win = wilson(26, 40)
        assert confidence["intervals"]["win_rate"] == {
            "ci_low": win.ci_low, "ci_high": win.ci_high, "n": 40, "level": 0.95,
            "method": "wilson", "enough": True, "reason": None,
        }  # fmt: skip
        # the same trades give the same bootstrap interval as the pure function
        expected = trade_intervals(_net(40), np.full(40, np.nan))
        served = confidence["intervals"]["expectancy"]
        assert (served["ci_low"], served["ci_high"]) == (
            expected["expectancy"].ci_low, expected["expectancy"].ci_high,
        )  # fmt: skip
        assert served["ci_low"] < body["expectancy"] < served["ci_high"]
        assert confidence["intervals"]["expectancy_r"]["reason"] == (
            "no trade has a known initial risk"
        )
        # 5 business days (Mar 4-8): too few to annualise, the PSR still has its value
        assert confidence["intervals"]["sharpe"]["reason"] == (
            "annualised figures need at least 20 business days of returns; this one spans 5"
        )
        assert confidence["probabilistic_sharpe"]["n"] == 5
        assert 0 < confidence["probabilistic_sharpe"]["value"] <= 1
        again = client.get(f"/api/runs/{run_id}/metrics", headers=alice_key).json()
        assert again["confidence"] == confidence

    def test_breakdown_rows_carry_intervals_and_the_minimum_sample_flag(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        run_id = int(push(client, alice_key, batch(_trades(40)))["run_id"])
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        groups = client.get(
            f"/api/runs/{run_id}/breakdowns?by=direction", headers=alice_key
        ).json()["groups"]
        assert [(g["key"], g["trade_count"]) for g in groups] == [("long", 20), ("short", 20)]
        for group in groups:
            win_rate = group["intervals"]["win_rate"]
            wins = round(group["win_rate"] * 20)
            assert (win_rate["ci_low"], win_rate["ci_high"]) == (
                wilson(wins, 20).ci_low, wilson(wins, 20).ci_high,
            )  # fmt: skip
            assert win_rate["enough"] is False
            assert win_rate["reason"] == "20 trades; an interval needs at least 30 to mean anything"
            assert group["intervals"]["profit_factor"]["n"] == 20
        portfolio = client.get("/api/portfolio/breakdowns?by=direction", headers=alice_key).json()
        assert [g["intervals"]["win_rate"]["n"] for g in portfolio["groups"]] == [20, 20]
        # another user's run is a 404, their portfolio empty
        assert client.get(
            f"/api/runs/{run_id}/breakdowns?by=direction", headers=bob
        ).status_code == 404
        assert client.get("/api/portfolio/breakdowns?by=direction", headers=bob).json()[
            "groups"
        ] == []

    def test_definitions_explain_the_intervals(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        rows = client.get("/api/metrics/definitions", headers=alice_key).json()
        explained = {row["name"]: row["interval"] for row in rows if row["interval"]}
        assert explained == {
            "win_rate": "95 % Wilson score interval of winners / trades",
            "profit_factor": "95 % percentile bootstrap over the trades (1,000 seeded resamples)",
            "expectancy": "95 % percentile bootstrap over the trades (1,000 seeded resamples)",
            "expectancy_r": "95 % percentile bootstrap over the trades with a known R",
            "sharpe": "95 % percentile bootstrap over the daily returns (1,000 seeded resamples)",
        }
