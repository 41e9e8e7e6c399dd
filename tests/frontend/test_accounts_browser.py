"""The Accounts page in Debian's Chromium, against a real backend process.

A funded account trades a EUR future (+1,000 EUR on 2024-01-03) in a USD account: the
equity first names the missing EURUSD rate, a rate entered on the page converts it,
the starting balance set on the page and a deposit entered there move equity but not
the time-weighted return. Screenshot in tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.frontend.browser import CHROMIUM, DIST, FLAGS, TIMEOUT_MS, ConsoleWatch
from tests.live_server import PROJECT_ROOT, LiveServer

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not DIST.exists(), reason="frontend/dist is not built (make test builds it)"
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path / "backend") as live:
        yield live


@pytest.fixture
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def test_accounts_page_converts_and_keeps_deposits_out_of_the_return(
    server: LiveServer, browser: Browser
) -> None:
    alice = server.create_account("alice")
    fills = [
        {"type": "instrument", "symbol": "FDXM", "multiplier": 5, "currency": "EUR"},
        {"type": "execution", "id": "o", "ts": "2024-01-03T14:00:00Z", "symbol": "FDXM",
         "side": "buy", "qty": 1, "price": 16000, "account": "APEX-1"},
        {"type": "execution", "id": "c", "ts": "2024-01-03T15:00:00Z", "symbol": "FDXM",
         "side": "sell", "qty": 1, "price": 16200, "account": "APEX-1"},
    ]  # fmt: skip
    body = {"source": "desk", "run": {"key": "live-1", "strategy": "S", "mode": "live"},
            "events": fills}  # fmt: skip
    pushed = httpx.post(f"{server.url}/api/ingest?wait=derived", json=body,
                        headers=alice.ingest_headers, timeout=30)  # fmt: skip
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["accepted"] == 3

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # the equity's 422 naming the missing rate is expected (the browser logs every 4xx)
    console = ConsoleWatch(page, allowed=("422 (Unprocessable Entity) (http://127.0.0.1",))
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_test_id("accounts").locator("tr", has_text="APEX-1")).to_contain_text("USD")
    expect(page.get_by_test_id("missing-rates")).to_have_text(
        "Missing FX rates: EURUSD on 2024-01-03. Push the pair's 1d bars or enter the rate below."
    )

    fx = page.get_by_test_id("fx-form")
    fx.locator("input[name=base]").fill("EUR")
    fx.locator("input[name=quote]").fill("USD")
    fx.locator("input[name=day]").fill("2024-01-03")
    fx.locator("input[name=rate]").fill("1.1")
    fx.get_by_role("button", name="Save rate").click()
    summary = page.get_by_test_id("equity-summary")
    expect(summary).to_contain_text("Realised P&L$1,100.00")

    settings = page.get_by_test_id("account-form")
    settings.locator("input[name=starting_balance]").fill("10000")
    settings.get_by_role("button", name="Save").click()
    expect(summary).to_contain_text("Equity$11,100.00")
    expect(summary).to_contain_text("Time-weighted return11.00%")

    cash = page.get_by_test_id("cash-form")
    cash.locator("select[name=kind]").select_option("deposit")
    cash.locator("input[name=amount]").fill("5000")
    cash.locator("input[name=ts]").fill("2024-01-04T10:00")
    cash.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("cash-flows")).to_contain_text("$5,000.00")
    expect(summary).to_contain_text("Equity$16,100.00")
    expect(summary).to_contain_text("Net cash flow$5,000.00")
    expect(summary).to_contain_text("Time-weighted return11.00%")  # the deposit is no profit
    page.screenshot(path=str(ARTIFACTS / "accounts-1440.png"), full_page=True)

    equity = httpx.get(f"{server.url}/api/accounts", headers=alice.headers).json()
    assert [(a["name"], a["starting_balance"]) for a in equity] == [("APEX-1", 10000.0)]
    assert console.errors == []
