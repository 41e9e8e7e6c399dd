"""The headline numbers in Debian's Chromium against a real backend (issue 24).

With a three-day live run and a five-week backtest loaded: the drawdown card equals
the drawdown chart's trough (and an independent computation of it), no metric label
on any page is a raw field name, the three-day run shows "—" for annual return with
the reason, the dashboard says which modes it adds up, Compare shows both runs.
Screenshots at 1440 and 390 px go to tests/artifacts/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.frontend.browser import ARTIFACTS, BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch
from tests.live_server import Account, LiveServer

pytestmark = BROWSER_MARKS

CAPITAL = 25_000
MULTIPLIER = 5
# Points per round trip (one contract of multiplier 5, no commission), per business day
# from Monday 2024-03-04: day 1 dips 300 within itself and closes flat.
LIVE_DAYS: list[list[float]] = [[20, -60, 40], [-30, 10], [50, -80]]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _round_trips(prefix: str, days: list[list[float]]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "instrument", "symbol": "MESH4", "multiplier": MULTIPLIER, "tick_size": 0.25}
    ]
    monday = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
    for d, moves in enumerate(days):
        day = monday + dt.timedelta(days=d + 2 * (d // 5))  # business days
        for n, move in enumerate(moves):
            entry = day + dt.timedelta(minutes=30 * n)
            for leg, side, price, at in (("in", "buy", 5000.0, entry),
                                         ("out", "sell", 5000.0 + move, entry + dt.timedelta(minutes=10))):  # fmt: skip
                events.append({"type": "execution", "id": f"{prefix}-{d}-{n}-{leg}", "ts": _iso(at),
                               "symbol": "MESH4", "side": side, "qty": 1, "price": price})  # fmt: skip
    last = monday + dt.timedelta(days=len(days) + 2 * (len(days) // 5) + 1)
    events.append({"type": "run_end", "ts": _iso(last)})
    return events


def _push(server: LiveServer, account: Account, key: str, mode: str, days: list[list[float]]) -> int:
    run = {"key": key, "strategy": "Numbers", "mode": mode, "initial_capital": CAPITAL}
    response = httpx.post(
        f"{server.url}/api/ingest?wait=derived", headers=account.ingest_headers, timeout=30,
        json={"source": key, "run": run, "events": _round_trips(key, days)},
    )  # fmt: skip
    response.raise_for_status()
    return int(response.json()["run_id"])


def _closed_trade_trough(days: list[list[float]]) -> Decimal:
    """Independently: the deepest fall of equity below its running peak, after each exit."""
    equity = peak = Decimal(CAPITAL)
    deepest = Decimal(0)
    for move in (m for day in days for m in day):
        equity += Decimal(str(move)) * MULTIPLIER
        peak = max(peak, equity)
        deepest = min(deepest, equity - peak)
    return deepest


def _money(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("numbers")) as live:
        yield live


def _labels_are_the_registrys(page: Page, labels: set[str], names: set[str]) -> int:
    shown = [text.strip() for text in page.get_by_test_id("metric-label").all_inner_texts()]
    assert shown, "no metric labels on the page"
    for text in shown:
        assert text in labels, text
        assert text not in names, text
        assert "_" not in text, text
    return len(shown)


def _shots(page: Page, name: str) -> None:
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # the charts follow the width
        page.screenshot(path=str(ARTIFACTS / f"24-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


class TestHeadlineNumbers:
    def test_cards_charts_labels_modes_and_compare(self, server: LiveServer, browser: Browser) -> None:
        account = server.create_account("numbers")
        live = _push(server, account, "three-days", "live", LIVE_DAYS)
        backtest_days: list[list[float]] = [[12 if d % 3 else -9] for d in range(25)]  # five weeks, one a day
        backtest = _push(server, account, "five-weeks", "backtest", backtest_days)
        definitions = httpx.get(f"{server.url}/api/metrics/definitions", headers=account.headers).json()
        labels = {d["label"] for d in definitions}
        names = {d["name"] for d in definitions}

        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
        page = context.new_page()
        console = ConsoleWatch(page)

        # The dashboard: live only by default, and it says so; all modes say they add up.
        page.goto(server.url)
        caption = page.get_by_test_id("mode-caption")
        expect(caption).to_have_text("Live runs only: 1 run, starting capital $25,000.")
        expect(page.locator("[data-metric=net_pnl]")).to_have_text("-$250.00")  # live alone
        trough = _money(_closed_trade_trough(LIVE_DAYS))
        assert trough == "-$400.00"  # daily closes see only -$250: a dip within day one
        expect(page.locator("[data-metric=max_drawdown_trades]")).to_have_text(trough)
        expect(page.get_by_test_id("trough-value")).to_have_text(trough)
        _labels_are_the_registrys(page, labels, names)
        page.wait_for_load_state("networkidle")
        _shots(page, "dashboard-live")
        page.get_by_label("Run mode").select_option("all")
        expect(caption).to_have_text(
            "Backtest, paper and live money added together: 1 backtest + 1 live = 2 runs, "
            "starting capital $50,000."
        )
        page.get_by_label("Run mode").select_option("live")

        # The three-day run: the card is the chart's trough; no annualised figure.
        page.goto(f"{server.url}/runs/{live}")
        expect(page.get_by_role("heading", name=re.compile(r"Run \d+: Numbers"))).to_be_visible()
        card = page.locator("[data-metric=max_drawdown_trades]")
        expect(card).to_have_text(trough)
        expect(page.get_by_test_id("trough-value")).to_have_text(card.inner_text())
        expect(page.get_by_text("Drawdown (closed trades)", exact=True)).to_be_visible()
        expect(page.locator("[data-list-metric=max_drawdown_amount]")).to_have_text("-$250.00")
        annual = page.locator("[data-list-metric=annual_return]")
        expect(annual).to_have_text("—")
        reason = "annualised figures need at least 20 business days of returns; this one spans 3"
        expect(annual.locator("xpath=..")).to_contain_text(reason)
        expect(page.locator("[data-metric=sharpe]")).to_have_text("—")
        # Axis titles: time (in the user's zone) by default, trade number as an option.
        chart = page.get_by_test_id("equity-chart")
        expect(chart.get_by_text(re.compile(r"^Exit time \(.+\)$")).first).to_be_visible()
        expect(chart.get_by_text("Equity ($)")).to_be_visible()
        chart.get_by_role("tab", name="By trade number").click()
        expect(chart.get_by_text("Trade number (in exit order)").first).to_be_visible()
        count = _labels_are_the_registrys(page, labels, names)
        assert count >= len(definitions)  # the cards and every metric
        page.wait_for_load_state("networkidle")
        _shots(page, "run-three-days")

        # Five weeks: annualised figures are there.
        page.goto(f"{server.url}/runs/{backtest}")
        expect(page.locator("[data-list-metric=annual_return]")).to_have_text(re.compile(r"^-?\d+\.\d%$"))
        expect(page.locator("[data-metric=sharpe]")).to_have_text(re.compile(r"^-?\d"))

        # Runs: the daily-close drawdown is a percent, never money.
        page.goto(f"{server.url}/runs")
        dd = page.get_by_test_id("runs").locator("[data-run-metric=max_drawdown]")
        expect(dd).to_have_count(2)
        for text in dd.all_inner_texts():
            assert re.fullmatch(r"-?\d+\.\d%", text), text
        expect(page.get_by_test_id("runs").locator("th", has_text="Max drawdown % (daily closes)")).to_be_visible()

        # Compare: A, B and B − A of every metric, both equity curves on one time axis.
        page.goto(f"{server.url}/compare?a={backtest}&b={live}")
        expect(page.get_by_test_id("equity-overlay")).to_have_attribute("data-lines", "2")
        row = page.get_by_test_id("compare-metrics").locator("[data-compare-metric=trade_count]")
        expect(row.locator("td")).to_have_text(["25", "7", "-18"])
        _labels_are_the_registrys(page, labels, names)
        page.wait_for_load_state("networkidle")
        _shots(page, "compare")

        assert console.errors == []
        context.close()
