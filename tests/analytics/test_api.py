"""Analytics through the real app: metrics, series, breakdowns, calendar, portfolio, compare, report."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ingest.helpers import RUN, batch, fill, push


def _push(
    client: TestClient, headers: dict[str, str], events: list[dict[str, Any]], **kw: Any
) -> int:
    run_id = int(push(client, headers, batch(events, **kw))["run_id"])
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    return run_id


def _round_trip(tag: str, entry: str, exit_: str, side: str, qty: float, price_in: float, price_out: float,
                **extra: Any) -> list[dict[str, Any]]:  # fmt: skip
    back = "sell" if side == "buy" else "buy"
    return [
        fill(f"{tag}-in", entry, side, qty, price_in, **extra),
        fill(f"{tag}-out", exit_, back, qty, price_out, **extra),
    ]


# 2024-03-08 is a Friday in EST (UTC-5); 2024-03-11, after the DST change, a Monday in EDT (UTC-4)
TRADES = (
    _round_trip("t1", "2024-03-08T14:30:00Z", "2024-03-08T15:00:00Z", "buy", 1, 100, 110)
    + _round_trip("t2", "2024-03-11T13:30:00Z", "2024-03-11T14:00:00Z", "sell", 2, 50, 52)
    + _round_trip("t3", "2024-03-12T18:00:00Z", "2024-03-13T03:00:00Z", "buy", 1, 20, 25)
)
END = {"type": "run_end", "ts": "2024-03-13T04:00:00Z"}


class TestRunAnalytics:
    def test_metrics_are_stored_when_the_run_ends_and_served_live(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        run_id = _push(client, alice_key, TRADES, run={**RUN, "initial_capital": 1000})
        assert client.get(f"/api/runs/{run_id}", headers=alice_key).json()["metrics"] is None
        _push(client, alice_key, [END], run={**RUN, "initial_capital": 1000})
        stored = client.get(f"/api/runs/{run_id}", headers=alice_key).json()["metrics"]
        assert (stored["net_pnl"], stored["trade_count"], stored["metrics_version"]) == (11.0, 3, 2)
        live = client.get(f"/api/runs/{run_id}/metrics", headers=alice_key).json()
        # 10 - 4 + 5: a long win, a short loss, a long win
        assert {
            k: live[k] for k in ("run_id", "net_pnl", "win_rate", "profit_factor", "expectancy")
        } == {
            "run_id": run_id,
            "net_pnl": 11.0,
            "win_rate": 2 / 3,
            "profit_factor": 15 / 4,
            "expectancy": 3.66666667,
        }
        for key in (
            "gross_pnl",
            "commission",
            "trade_count",
            "max_drawdown",
            "sharpe",
            "sortino",
            "avg_hold_seconds",
        ):
            assert key in live
        definitions = client.get("/api/metrics/definitions", headers=alice_key).json()
        assert {"name": "win_rate", "label": "Win rate", "unit": "fraction",
                "formula": "winners / closed trades; a winner has net PnL > 0",
                "description": "Share of closed trades that made money after commissions.",
                "annualised": False,
                "interval": "95 % Wilson score interval of winners / trades"} in definitions  # fmt: skip

    def test_final_metrics_survive_a_failed_refresh(
        self, client: TestClient, alice_key: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from backend.analytics.service import refresh_ended_runs as real
        from backend.api import context as context_module

        calls: list[list[int]] = []

        def fails_once(session: Any, run_ids: list[int]) -> Any:
            calls.append(list(run_ids))
            if len(calls) == 1:
                raise OSError("disk I/O error")  # the write failed: nothing was stored
            return real(session, run_ids)

        monkeypatch.setattr(context_module, "refresh_ended_runs", fails_once)
        run_id = _push(client, alice_key, [*TRADES, END], run={**RUN, "initial_capital": 1000})
        derivations = client.app.state.context.ingest.derivations  # type: ignore[attr-defined]
        for _ in range(50):  # the runner retries on its next round
            if client.get(f"/api/runs/{run_id}", headers=alice_key).json()["metrics"]:
                break
            derivations.notify()
            derivations.wait_idle()
        stored = client.get(f"/api/runs/{run_id}", headers=alice_key).json()["metrics"]
        assert stored is not None
        assert stored["net_pnl"] == 11.0
        assert calls[0] == calls[1] == [run_id]

    def test_ratios_are_null_with_a_reason_without_capital(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        no_capital = {k: v for k, v in RUN.items() if k != "initial_capital"}
        run_id = _push(client, alice_key, TRADES, run=no_capital)
        live = client.get(f"/api/runs/{run_id}/metrics", headers=alice_key).json()
        assert (live["sharpe"], live["undefined"]["sharpe"]) == (
            None,
            "the run has no initial_capital",
        )
        assert live["max_drawdown_amount"] == -4.0

    def test_breakdowns_in_the_users_time_zone_across_dst(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = _push(client, alice_key, TRADES)
        client.patch("/api/auth/me", json={"timezone": "America/New_York"}, headers=alice)
        hours = client.get(f"/api/runs/{run_id}/breakdowns?by=hour", headers=alice).json()
        assert hours["timezone"] == "America/New_York"
        # 14:30Z in EST and 13:30Z in EDT are both 09 local; 18:00Z in EDT is 14
        assert [(g["key"], g["trade_count"], g["net_pnl"]) for g in hours["groups"]] == [
            ("09", 2, 6.0),
            ("14", 1, 5.0),
        ]
        weekdays = client.get(f"/api/runs/{run_id}/breakdowns?by=weekday", headers=alice).json()[
            "groups"
        ]
        assert [g["key"] for g in weekdays] == ["Monday", "Tuesday", "Friday"]
        direction = client.get(f"/api/runs/{run_id}/breakdowns?by=direction", headers=alice).json()[
            "groups"
        ]
        assert [(g["key"], g["net_pnl"], g["win_rate"]) for g in direction] == [
            ("long", 15.0, 1.0),
            ("short", -4.0, 0.0),
        ]
        regime = client.get(f"/api/runs/{run_id}/breakdowns?by=regime", headers=alice).json()[
            "groups"
        ]
        assert [(g["key"], g["trade_count"]) for g in regime] == [
            ("unknown / unknown", 3)
        ]  # no bars stored
        assert (
            client.get(f"/api/runs/{run_id}/breakdowns?by=moon", headers=alice).status_code == 422
        )

    def test_tag_breakdown_and_calendar(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = _push(client, alice_key, TRADES)
        first = client.get(f"/api/runs/{run_id}/trades", headers=alice).json()["items"][0]["id"]
        client.patch(f"/api/trades/{first}", json={"tags": ["A+", "news"]}, headers=alice)
        tags = client.get(f"/api/runs/{run_id}/breakdowns?by=tag", headers=alice).json()["groups"]
        assert [(g["key"], g["trade_count"]) for g in tags] == [
            ("(untagged)", 2),
            ("A+", 1),
            ("news", 1),
        ]
        client.patch("/api/auth/me", json={"timezone": "America/New_York"}, headers=alice)
        days = client.get(f"/api/runs/{run_id}/calendar", headers=alice).json()["days"]
        # t3 exits at 03:00Z on the 13th: the 12th in New York
        assert days == [
            {"date": "2024-03-08", "net_pnl": 10.0, "trades": 1},
            {"date": "2024-03-11", "net_pnl": -4.0, "trades": 1},
            {"date": "2024-03-12", "net_pnl": 5.0, "trades": 1},
        ]

    def test_series_for_charts(self, client: TestClient, alice_key: dict[str, str]) -> None:
        run_id = _push(client, alice_key, TRADES, run={**RUN, "initial_capital": 1000})
        series = client.get(f"/api/runs/{run_id}/series", headers=alice_key).json()
        assert [(p["equity"], p["drawdown"]) for p in series["equity"]] == [
            (1010.0, 0.0),
            (1006.0, -4.0),
            (1011.0, 0.0),
        ]
        assert series["equity"][1]["drawdown_pct"] == -4 / 1010
        # UTC business days: Fri 8, Mon 11, Tue 12, Wed 13
        assert series["daily"] == [
            {"date": "2024-03-08", "net_pnl": 10.0}, {"date": "2024-03-11", "net_pnl": -4.0},
            {"date": "2024-03-12", "net_pnl": 0.0}, {"date": "2024-03-13", "net_pnl": 5.0},
        ]  # fmt: skip


class TestPortfolioAndComparison:
    def test_portfolio_combines_runs_filtered_by_mode(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        live = {**RUN, "key": "live", "initial_capital": 1000}
        backtest = {
            **RUN,
            "key": "bt",
            "mode": "backtest",
            "instance": "other",
            "initial_capital": 4000,
        }
        _push(client, alice_key, TRADES, run=live)
        _push(
            client,
            alice_key,
            _round_trip(
                "b1", "2024-03-08T14:30:05Z", "2024-03-08T15:00:00Z", "buy", 1, 99.5, 110.25
            ),
            run=backtest,
        )
        everything = client.get("/api/portfolio", headers=alice_key).json()
        assert (
            everything["metrics"]["net_pnl"],
            everything["metrics"]["trade_count"],
            everything["initial_capital"],
        ) == (21.75, 4, 5000)
        only_live = client.get("/api/portfolio?mode=live", headers=alice_key).json()
        assert (only_live["metrics"]["net_pnl"], only_live["run_ids"]) == (11.0, [1])
        instances = client.get("/api/portfolio/breakdowns?by=instance", headers=alice_key).json()[
            "groups"
        ]
        assert [(g["key"], g["trade_count"]) for g in instances] == [
            ("MES 5m aggressive", 3),
            ("other", 1),
        ]

    def test_compare_matches_trades_and_measures_slippage(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        backtest = {**RUN, "key": "bt", "mode": "backtest"}
        a = _push(client, alice_key, TRADES, run=backtest, source="bt")
        live_trades = (
            _round_trip(
                "t1", "2024-03-08T14:30:20Z", "2024-03-08T15:00:10Z", "buy", 1, 100.25, 109.5
            )
            + _round_trip(
                "t2", "2024-03-11T13:30:15Z", "2024-03-11T14:00:00Z", "sell", 2, 49.75, 52
            )
            + _round_trip("x", "2024-03-14T13:30:00Z", "2024-03-14T14:00:00Z", "buy", 1, 10, 11)
        )
        b = _push(client, alice_key, live_trades, run={**RUN, "key": "live"}, source="live")
        result = client.get(f"/api/compare?a={a}&b={b}&tolerance_s=30", headers=alice_key).json()
        assert [(m["a"]["entry_ts"], m["entry_delay_s"], m["entry_slippage"], m["exit_slippage"], m["pnl_difference"])
                for m in result["matched"]] == [
            ("2024-03-08T14:30:00Z", 20.0, 0.25, 0.5, -0.75),  # paid 0.25 more, sold 0.50 lower
            ("2024-03-11T13:30:00Z", 15.0, 0.25, 0.0, -0.5),  # a short sold 0.25 lower
        ]  # fmt: skip
        assert [t["entry_ts"] for t in result["only_a"]] == ["2024-03-12T18:00:00Z"]
        assert [t["entry_ts"] for t in result["only_b"]] == ["2024-03-14T13:30:00Z"]
        assert result["metrics"]["delta"]["net_pnl"] == (9.25 - 4.5 + 1) - 11
        tight = client.get(f"/api/compare?a={a}&b={b}&tolerance_s=10", headers=alice_key).json()
        assert tight["summary"]["matched"] == 0

    def test_report_as_json_and_csv(self, client: TestClient, alice_key: dict[str, str]) -> None:
        run_id = _push(client, alice_key, TRADES, run={**RUN, "initial_capital": 1000})
        response = client.get(f"/api/runs/{run_id}/report", headers=alice_key)
        assert (
            response.headers["content-disposition"]
            == f'attachment; filename="run-{run_id}-report.json"'
        )
        document = response.json()
        assert document["run"]["params"] == {"imbalance_ratio": 3.0}
        assert (
            document["metrics"]["net_pnl"],
            len(document["trades"]),
            len(document["series"]["equity"]),
        ) == (11.0, 3, 3)
        rows = list(
            csv.DictReader(
                io.StringIO(
                    client.get(f"/api/runs/{run_id}/report?format=csv", headers=alice_key).text
                )
            )
        )
        assert [(r["direction"], r["net_pnl"], r["entry_ts"]) for r in rows] == [
            ("long", "10.0", "2024-03-08T14:30:00Z"), ("short", "-4.0", "2024-03-11T13:30:00Z"),
            ("long", "5.0", "2024-03-12T18:00:00Z"),
        ]  # fmt: skip

    def test_isolation(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        run_id = _push(client, alice_key, TRADES)
        for path in ("metrics", "series", "breakdowns?by=symbol", "calendar", "report"):
            assert client.get(f"/api/runs/{run_id}/{path}", headers=bob).status_code == 404, path
        assert client.get(f"/api/compare?a={run_id}&b={run_id}", headers=bob).status_code == 404
        assert client.get("/api/portfolio", headers=bob).json()["metrics"]["trade_count"] == 0
        assert client.get("/api/portfolio").status_code == 401
