"""Confidence intervals in Debian's Chromium against a real backend (issue 21).

A run with 60 trades of MESH4 and 10 of MNQH4: the run page's breakdown chart draws a
95 % error bar on each symbol's expectancy, the 10-trade row and bar are muted with
the reason, the metric list shows the run's intervals as the API serves them.
Screenshots at 1440 and 390 px go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.frontend.browser import (  # the `browser` fixture is tests/frontend/conftest.py's
    ARTIFACTS,
    CHROMIUM,
    DIST,
    TIMEOUT_MS,
    ConsoleWatch,
)
from tests.live_server import LiveServer

__all__ = ["browser"]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not DIST.exists(), reason="frontend/dist is not built (make test builds it)"
    ),
]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    start = dt.datetime(2024, 3, 4, 14, 0, tzinfo=dt.UTC)
    trades = [("MESH4", i) for i in range(60)] + [("MNQH4", i) for i in range(10)]
    for n, (symbol, i) in enumerate(trades):
        entry = start + dt.timedelta(minutes=20 * n)
        move = -4.0 if i % 3 == 0 else 3.0
        for leg, side, price, at in (("in", "buy", 100.0, entry),
                                     ("out", "sell", 100.0 + move, entry + dt.timedelta(minutes=10))):  # fmt: skip
            events.append({"type": "execution", "id": f"{symbol}-{i}-{leg}", "ts": _iso(at),
                           "symbol": symbol, "side": side, "qty": 1, "price": price})  # fmt: skip
    events.append({"type": "run_end", "ts": _iso(start + dt.timedelta(days=2))})
    return events


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("confidence"))
    live.start(timeout=120)  # this shared machine can be slow to start a server
    try:
        yield live
    finally:
        live.stop()


def _shots(page: Page, name: str) -> None:
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"21-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


class TestConfidenceInTheDashboard:
    def test_error_bars_muted_rows_and_intervals(
        self, server: LiveServer, browser: Browser
    ) -> None:
        account = server.create_account("confidence")
        run = {"key": "ci", "strategy": "Confidence", "mode": "backtest", "initial_capital": 10_000}
        response = httpx.post(
            f"{server.url}/api/ingest?wait=derived", headers=account.ingest_headers, timeout=30,
            json={"source": "ci", "run": run, "events": _events()},
        )  # fmt: skip
        response.raise_for_status()
        run_id = int(response.json()["run_id"])
        groups = httpx.get(
            f"{server.url}/api/runs/{run_id}/breakdowns?by=symbol", headers=account.headers
        ).json()["groups"]
        assert [(g["key"], g["trade_count"], g["intervals"]["win_rate"]["enough"]) for g in groups] == [
            ("MESH4", 60, True), ("MNQH4", 10, False),
        ]  # fmt: skip

        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
        page = context.new_page()
        console = ConsoleWatch(page)
        page.goto(f"{server.url}/runs/{run_id}")
        chart = page.get_by_test_id("breakdown-chart")
        # one error bar per symbol on the expectancy chart
        expect(chart.locator(".recharts-errorBar")).to_have_count(2)
        expect(chart.locator(".recharts-bar-rectangle")).to_have_count(2)
        muted = chart.locator(".recharts-bar-rectangle path[fill-opacity='0.35']")
        expect(muted).to_have_count(1)
        # the thin row is muted and says why
        thin_row = page.locator("tr", has=page.locator("td.thin", has_text="MNQH4"))
        expect(thin_row).to_have_count(1)
        expect(thin_row.locator("span[title]").first).to_have_attribute(
            "title", "10 trades; an interval needs at least 30 to mean anything"
        )
        # the metric list carries the run's win-rate interval as served
        metrics = httpx.get(
            f"{server.url}/api/runs/{run_id}/metrics", headers=account.headers
        ).json()
        win = metrics["confidence"]["intervals"]["win_rate"]
        expected = (
            f"95 % interval {win['ci_low'] * 100:.1f}% to {win['ci_high'] * 100:.1f}% (n = 70)"
        )
        expect(page.locator("[data-interval=win_rate]").first).to_have_text(expected)
        page.wait_for_load_state("networkidle")
        _shots(page, "breakdown-error-bars")
        # win rate chart: error bars too
        page.get_by_test_id("breakdown-metric").select_option("win_rate")
        expect(chart.locator(".recharts-errorBar")).to_have_count(2)
        assert console.errors == []
        context.close()
