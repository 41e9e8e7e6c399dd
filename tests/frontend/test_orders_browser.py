"""A trade's explanation and its order timelines on the trade page, in Chromium (issue 21).

Against a real backend process: the hand-checked history of tests/trades/order_scenario.py
is pushed; the ES trade's page shows how its fills made it (open, scale-in, close), its
orders' timelines with slippage and the stop verdict; the MES short opened by a reversal
shows the split of the crossing fill's commission. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.frontend.browser import CHROMIUM, DIST, FLAGS, TIMEOUT_MS, ConsoleWatch
from tests.ingest.helpers import RUN
from tests.live_server import PROJECT_ROOT, LiveServer
from tests.trades.order_scenario import events

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not DIST.exists(), reason="frontend/dist is not built (make test builds it)"
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "backend")
    live.start(timeout=120)  # the start migrates a fresh database: slow on a loaded machine
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"orders-{name}-1440.png"), full_page=True)


def test_trade_explanation_and_order_timelines(server: LiveServer, browser: Browser) -> None:
    alice = server.create_account("orders")
    pushed = httpx.post(
        f"{server.url}/api/ingest?wait=derived&timeout=30", headers=alice.ingest_headers,
        json={"source": "desk", "run": RUN, "events": events()}, timeout=60,
    )  # fmt: skip
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["derivation"]["state"] == "derived"
    trades = httpx.get(f"{server.url}/api/trades?sort=entry_ts", headers=alice.headers).json()
    ids = {(t["symbol"], t["direction"]): t["id"] for t in trades["items"]}

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('fillbook.token', {alice.token!r})")
    page = context.new_page()
    # MES has no bars: the chart's look-up of them is a 404 (the chart then says so)
    console = ConsoleWatch(page, allowed=("/api/bars?symbol=MES&",))

    page.goto(f"{server.url}/trades/{ids[('ES', 'long')]}")
    steps = page.get_by_test_id("explain-steps").locator("li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Buy 1 @ 4,700: flat → long 1, opens trade #")
    expect(steps.nth(1)).to_contain_text(
        "Buy 1 @ 4,700.25: long 1 → long 2, adds to the position (scale-in)."
    )
    expect(steps.nth(2)).to_contain_text("Sell 2 @ 4,701.75: long 2 → flat, closes the trade.")
    expect(page.get_by_test_id("explain-consistency")).to_contain_text("the same trade as stored")
    expect(page.get_by_test_id("explain-excursions")).to_have_text(
        "4 1m bars lie wholly inside the trade (the bars of the entry and exit are left out); "
        "MFE 5.875 comes from a bar, MAE 2.125 from a bar (the favourable side is the high)."
    )
    expect(page.get_by_test_id("explain-stop")).to_have_text(
        "Initial stop 4,699: the first price of stop order s1 (linked to the entry order); risk $112.50."
    )
    orders = page.get_by_test_id("orders-panel")
    entry = orders.locator("[data-order=e1]")
    expect(entry.get_by_test_id("slip-order")).to_have_text("-0.125 (-0.5 ticks, -$12.50)")
    expect(entry.get_by_test_id("slip-close")).to_have_text("+0.125 (+0.5 ticks, $12.50)")
    expect(entry.locator(".timeline li")).to_have_count(6)
    expect(entry.locator(".timeline li").nth(1)).to_contain_text(
        "modified (limit changed): qty 2, limit 4,700.25"
    )
    expect(orders.locator("[data-order=s1]").get_by_test_id("slip-order")).to_have_text(
        "+0.25 (+1 tick, $25.00)"
    )
    expect(orders.locator("[data-order=t1] h3")).to_have_text(
        "t1 · sell limit · linked · cancelled"
    )
    expect(page.get_by_test_id("stop-verdict")).to_have_text(
        "Moving the stop helped: +$275.00 against -$112.50 gross had the first stop 4,699 stayed."
    )
    page.wait_for_load_state("networkidle")
    page.get_by_role("heading", name="Why is this a trade?").scroll_into_view_if_needed()
    _shot(page, "es-long")

    page.goto(f"{server.url}/trades/{ids[('MES', 'short')]}")
    steps = page.get_by_test_id("explain-steps").locator("li")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text(
        "Sell 3 @ 102: long 2 → short 1, crosses zero: 2 closed trade #"
    )
    expect(steps.nth(0)).to_contain_text(
        "commission $1.00000000 split by quantity: $1.00000000 × 2/3 = $0.66666667 (half-even to 1e-8) "
        "closed trade #"
    )
    rows = page.get_by_test_id("explain-table").locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("$0.33333333")
    expect(page.get_by_test_id("explain-consistency")).to_contain_text(
        "Every commission split adds up exactly."
    )
    expect(page.get_by_test_id("stop-verdict")).to_have_text("No protective stop.")
    page.wait_for_load_state("networkidle")
    page.get_by_role("heading", name="Why is this a trade?").scroll_into_view_if_needed()
    _shot(page, "mes-reversal")
    assert console.errors == []
