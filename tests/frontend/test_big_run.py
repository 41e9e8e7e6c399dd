"""Issue 24's walk: with a 20,000-round-trip run loaded, every page shows its data.

The time to data of each page is measured and reported (printed, and written to
tests/artifacts/big-run-timings.json), never asserted: bench/dashboard.py runs the same
walk as a benchmark against the API calls behind the pages. Also here: the totals of the
run equal a computation from the pushed fills, Back leaves a trade in one press (opened
from its link), the URL keeps the trade filters, an unsaved journal note asks before it
is lost, and screenshots at 1440 and 390 px go to tests/artifacts/.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.frontend import big_run
from tests.frontend.browser import ARTIFACTS, BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch
from tests.live_server import Account, LiveServer

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Account, big_run.BigRun]]:
    run = big_run.build()
    with LiveServer(tmp_path_factory.mktemp("big-run")) as server:
        account = server.create_account("big")
        big_run.push(server.url, account.ingest_headers, run)
        yield server, account, run


def _page(
    browser: Browser,  # noqa: F811
    server: LiveServer,
    account: Account,
    path: str = "/",
) -> Page:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
    context.add_init_script(big_run.CLOCKS)
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    expect(page.get_by_role("heading").first).to_be_visible()
    return page


UNLOAD_WARNS = (
    "() => { const e = new Event('beforeunload', {cancelable: true});"
    " window.dispatchEvent(e); return e.defaultPrevented; }"
)
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# What must fit a phone's width: numbers, headings, wrapped reasons and the trade tables'
# net P&L (other columns of a table may scroll inside its box).
CUT_OFF = """() => {
  const outside = (e) => {
    const right = e.getBoundingClientRect().right;
    const box = e.closest('.table-wrap');  // a table scrolls inside its box: clipped there
    return right > Math.min(window.innerWidth, box ? box.getBoundingClientRect().right : Infinity) + 1;
  };
  const wanted = '.card-value, .total-value, .card-label, h1, td.wrap,'
    + ' [data-testid$=trades] td.pos, [data-testid$=trades] td.neg';
  return [...document.querySelectorAll(wanted)].filter(outside).map((e) => e.textContent);
}"""


def _money(amount: float) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


class TestBigRun:
    def test_every_page_shows_the_20000_trade_run(
        self,
        loaded: tuple[LiveServer, Account, big_run.BigRun],
        browser: Browser,  # noqa: F811
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        server, account, run = loaded
        page = _page(browser, server, account)
        console = ConsoleWatch(page)
        timings: dict[str, dict[str, float]] = {}
        for step in big_run.steps(run):
            data, settled = big_run.time_to_data(page, step)
            timings[step.name] = {"data_s": round(data, 3), "settled_s": round(settled, 3)}
            page.screenshot(path=str(ARTIFACTS / f"big-{step.name}-1440.png"))
            # The same page on a phone: nothing cut off at 390 px.
            page.set_viewport_size(PHONE)
            big_run.settle(page)
            page.screenshot(path=str(ARTIFACTS / f"big-{step.name}-390.png"), full_page=True)
            assert page.evaluate(CUT_OFF) == [], step.name
            page.set_viewport_size(DESKTOP)
        with capsys.disabled():  # reported even when pytest captures output
            sys.stdout.write(
                f"\ntime to data with {run.trips:,} trades, s: {json.dumps(timings)}\n"
            )
        (ARTIFACTS / "big-run-timings.json").write_text(json.dumps(
            {"trips": run.trips, "viewport": DESKTOP, "seconds": timings}, indent=2
        ))  # fmt: skip

        # The run page's totals are the whole run's, equal to the sum over the pushed fills.
        page.goto(f"{server.url}/runs/{run.run_id}")
        totals = page.get_by_test_id("trade-totals")
        expect(totals.locator("[data-total=trades]")).to_have_text(re.compile("20,000"))
        expect(totals.locator("[data-total=net_pnl]")).to_contain_text(_money(float(run.net_pnl)))
        win_rate = f"{100 * run.wins / run.trips:.1f}%"
        expect(totals.locator("[data-total=win_rate]")).to_contain_text(win_rate)
        # Virtualised: 500 trades on the page, a few dozen rows drawn.
        table = page.get_by_test_id("run-trades")
        expect(table.locator("tbody tr[data-index='0']")).to_be_visible()  # rows may follow totals
        drawn = table.locator("tbody tr[tabindex='0']").count()
        assert 10 < drawn < 100, drawn
        assert page.locator(".table-wrap.virtual[data-rows='500']").count() == 1

        # Back in one press: open a trade from its link, go back, the run page is there.
        table.locator("tbody tr[tabindex='0'] a").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"Trade \d+"))).to_be_visible()
        page.go_back()
        expect(page.get_by_role("heading", name=re.compile(rf"Run {run.run_id}:"))).to_be_visible()
        assert console.errors == []
        page.context.close()

    def test_filters_live_in_the_url_and_back_keeps_them(
        self,
        loaded: tuple[LiveServer, Account, big_run.BigRun],
        browser: Browser,  # noqa: F811
    ) -> None:
        server, account, run = loaded
        page = _page(browser, server, account, "/trades")
        console = ConsoleWatch(page)
        page.get_by_label("Run", exact=True).select_option(str(run.run_id))
        page.get_by_label("direction").select_option("short")
        page.fill("input[name=from]", "2024-01-03")
        page.fill("input[name=to]", "2024-01-03")  # one day in the user's zone (UTC here)
        totals = page.get_by_test_id("trade-totals").locator("[data-total=trades] .total-value")
        expect(totals).to_have_text("144")  # 288 five-minute bars a day, every other short
        expect(page).to_have_url(re.compile(r"run=\d+.*direction=short.*from=2024-01-03"))
        page.get_by_role("button", name="MFE", exact=True).click()  # sortable by R, MFE and MAE
        expect(page).to_have_url(re.compile(r"sort=-mfe"))
        url = page.url
        page.get_by_test_id("trades").locator("tbody tr[tabindex='0'] a").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"Trade \d+"))).to_be_visible()
        page.go_back()
        expect(page).to_have_url(url)
        expect(totals).to_have_text("144")
        page.reload()
        expect(totals).to_have_text("144")

        # An unsaved note: a link inside the app asks; Cancel stays, OK leaves.
        page.get_by_test_id("trades").locator("tbody tr[tabindex='0']").first.click()
        page.fill("textarea[name=notes]", "not saved yet")
        expect(page.get_by_test_id("journal-unsaved")).to_be_visible()
        # Closing or reloading the tab: the page's beforeunload handler asks the browser to warn.
        assert page.evaluate(UNLOAD_WARNS) is True
        asked: list[str] = []

        def answer(dialog, accept: bool) -> None:  # type: ignore[no-untyped-def]
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda d: answer(d, False))
        page.get_by_role("link", name="Runs", exact=True).click()
        expect(page.locator("textarea[name=notes]")).to_have_value("not saved yet")
        page.once("dialog", lambda d: answer(d, True))
        page.get_by_role("link", name="Runs", exact=True).click()
        expect(page.get_by_role("heading", name="Runs")).to_be_visible()
        assert len(asked) == 2
        assert page.evaluate(UNLOAD_WARNS) is False  # nothing unsaved any more
        assert "unsaved" in asked[0]
        assert console.errors == []
        page.context.close()

    def test_a_rejection_reason_wraps_on_a_phone(
        self,
        loaded: tuple[LiveServer, Account, big_run.BigRun],
        browser: Browser,  # noqa: F811
    ) -> None:
        server, account, _ = loaded
        bad = {"type": "execution", "id": "bad-1", "ts": "2024-01-02T14:30:00Z",
               "symbol": big_run.SYMBOL, "side": "buy", "qty": -1, "price": 1.0}  # fmt: skip
        body = {
            "source": "phone",
            "run": {"key": "big-compare", "strategy": "Big", "mode": "paper"},
            "events": [bad],
        }
        response = httpx.post(f"{server.url}/api/ingest", json=body,
                              headers=account.ingest_headers, trust_env=False)  # fmt: skip
        assert [r["id"] for r in response.json()["rejected"]] == ["bad-1"], response.text
        page = _page(browser, server, account, "/rejected")
        console = ConsoleWatch(page)
        page.set_viewport_size(PHONE)
        reason = page.get_by_test_id("rejected").locator("td.wrap").first
        expect(reason).to_contain_text("qty")
        assert page.evaluate(CUT_OFF) == []
        box = reason.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"], box
        page.screenshot(path=str(ARTIFACTS / "big-rejected-390.png"), full_page=True)
        assert console.errors == []
        page.context.close()
