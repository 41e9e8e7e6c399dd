"""The Import page in Debian's Chromium against a real backend process (issue 20).

A trader's walk: drop a NinjaTrader 8 executions export on the page, say the zone its
times were written in, read the preview (fills with their UTC and local times, the
instrument with its unknown-multiplier warning), confirm into a new run, watch the
progress finish and read the summary, open the run and see its trades. The same file
again previews every fill as a duplicate and stores none. A CSV of another broker goes
through the column picker; its mapping is saved and picked again for the next file.
Screenshots at 1440 and 390 px go to tests/artifacts/; any console error fails the test.
"""

from __future__ import annotations

import json
import re

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from tests.frontend.browser import BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch, phone_shots
from tests.live_server import LiveServer

pytestmark = BROWSER_MARKS

# Two round trips of two MES contracts on Friday 2023-12-15, the platform set to New York
# (EST, UTC-5): 09:30:01 local is 14:30:01 UTC. Execution ids are NinjaTrader's own.
NINJATRADER = (
    "Instrument,Action,Quantity,Price,Time,ID,E/X,Position,Order ID,Name,Commission,Rate,"
    "Account,Connection\n"
    "MES 12-23,Buy,2,4712.25,12/15/2023 9:30:01 AM,8f1c2a7e4b5d4c3e9a0b1c2d3e4f5a61,Entry,2 L,"
    "a6b1f0e2c3d44e5f8a9b0c1d2e3f4a51,Entry,$1.24,1,Sim101,Playback Connection\n"
    "MES 12-23,Sell,2,4715.5,12/15/2023 9:41:17 AM,8f1c2a7e4b5d4c3e9a0b1c2d3e4f5a62,Exit,-,"
    "a6b1f0e2c3d44e5f8a9b0c1d2e3f4a52,Exit,$1.24,1,Sim101,Playback Connection\n"
    "MES 12-23,Sell,1,4718,12/15/2023 10:05:00 AM,8f1c2a7e4b5d4c3e9a0b1c2d3e4f5a63,Entry,1 S,"
    "a6b1f0e2c3d44e5f8a9b0c1d2e3f4a53,Entry,$0.62,1,Sim101,Playback Connection\n"
    "MES 12-23,Buy,1,4716.75,12/15/2023 10:20:30 AM,8f1c2a7e4b5d4c3e9a0b1c2d3e4f5a64,Exit,-,"
    "a6b1f0e2c3d44e5f8a9b0c1d2e3f4a54,Exit,$0.62,1,Sim101,Playback Connection\n"
)

# Another broker's CSV: no format of its own, so the column picker reads it.
GENERIC = (
    "Trade Date,Ticker,B/S,Contracts,Fill,Fee,Ref\n"
    "2024-03-04 15:00:00,MNQH4,BUY,1,18050.25,0.52,g-1\n"
    "2024-03-04 15:12:30,MNQH4,SELL,1,18061.5,0.52,g-2\n"
)
GENERIC_NEXT = (
    "Trade Date,Ticker,B/S,Contracts,Fill,Fee,Ref\n"
    "2024-03-05 15:00:00,MNQH4,SELL,2,18100,1.04,g-3\n"
    "2024-03-05 15:30:00,MNQH4,BUY,2,18090.5,1.04,g-4\n"
)

# A file dropped on the page's drop zone as the desktop would drop it.
DROP_FILE = """([name, text]) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, { type: "text/csv" }));
  document.querySelector("[data-testid=import-drop]").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


def drop(page: Page, name: str, text: str) -> None:
    page.evaluate(DROP_FILE, [name, text])


def shots(page: Page, name: str) -> None:
    phone_shots(page, f"import-{name}")


def cells(page: Page, table: str, row: int) -> list[str]:
    """The texts of one body row of a table, in column order (Intl's narrow spaces plain)."""
    texts = page.get_by_test_id(table).locator("tbody tr").nth(row).locator("td").all_inner_texts()
    return [t.replace("\u202f", " ").replace("\xa0", " ") for t in texts]


def utc_cell(page: Page, row: int) -> Locator:
    """The UTC time of a preview row (waited on: the preview re-reads after each change)."""
    return page.get_by_test_id("preview-fills").locator("tbody tr").nth(row).locator("td").nth(1)


def confirm_and_finish(page: Page) -> None:
    page.get_by_test_id("import-confirm").get_by_role(
        "button", name=re.compile(r"^Import ")
    ).click()
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("import-bar")).to_have_attribute("aria-valuenow", "100")


def test_import_ninjatrader_and_generic_csv_through_the_page(
    server: LiveServer, browser: Browser
) -> None:
    account = server.create_account("trader")
    api = httpx.Client(base_url=server.url, headers=account.headers, timeout=30)
    # The user's zone (Settings) is where the preview's second time column is.
    api.patch("/api/auth/me", json={"timezone": "Europe/Berlin"}).raise_for_status()
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
    page = context.new_page()
    console = ConsoleWatch(page)

    page.goto(f"{server.url}/import")
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_class(re.compile("active"))
    expect(page.get_by_test_id("import-history")).to_contain_text("No imports yet.")

    # The export dropped: NinjaTrader 8 detected; its times carry no zone, so the page asks.
    drop(page, "NinjaTrader Grid 2023-12-15.csv", NINJATRADER)
    expect(page.get_by_test_id("preview-format")).to_have_text(
        "NinjaTrader 8 executions (detected)"
    )
    expect(page.get_by_test_id("needs-tz")).to_be_visible()
    shots(page, "01-needs-zone")
    page.locator("input[name=tz]").fill("America/New_York")
    page.get_by_role("button", name="Read the times in this zone").click()
    expect(page.get_by_test_id("needs-tz")).to_have_count(0)
    expect(page.get_by_test_id("preview-fills-total")).to_have_text("4")
    expect(page.get_by_test_id("preview-duplicates-total")).to_have_text("0")
    expect(page.get_by_test_id("preview-skipped-total")).to_have_text("0")
    expect(page.get_by_test_id("preview-sentence")).to_have_text(
        "4 rows read, 4 new fills to store."
    )
    fills = page.get_by_test_id("preview-fills")
    expect(fills.locator("tbody tr")).to_have_count(4)
    # Row, UTC, Berlin (the user's zone: UTC+1), symbol, side, qty, price, commission, id, account.
    assert cells(page, "preview-fills", 0) == [
        "2", "2023-12-15 14:30:01 UTC", "12/15/2023, 03:30:01 PM", "MES 12-23", "buy", "2",
        "4,712.25", "1.24", "ninjatrader8:8f1c2a7e4b5d4c3e9a0b1c2d3e4f5a61", "Sim101",
    ]  # fmt: skip
    assert cells(page, "preview-fills", 3)[:8] == [
        "5", "2023-12-15 15:20:30 UTC", "12/15/2023, 04:20:30 PM", "MES 12-23", "buy", "1",
        "4,716.75", "0.62",
    ]  # fmt: skip
    # Micro E-mini S&P: the point value is known (5), no warning; no tick size in the file.
    assert cells(page, "preview-instruments", 0) == ["MES 12-23", "created", "5", "—", "—", ""]
    shots(page, "02-preview")

    # Into a new run: progress to the end, then the summary.
    confirm = page.get_by_test_id("import-confirm")
    confirm.locator("input[name=run-name]").fill("NT sim December")
    confirm.locator("select[name=run-mode]").select_option("paper")
    confirm_and_finish(page)
    expect(page.get_by_test_id("summary-stored")).to_have_text("4 fills")
    expect(page.get_by_test_id("summary-duplicates")).to_have_text("0 fills")
    expect(page.get_by_test_id("summary-refused")).to_have_text("0 rows")
    expect(page.get_by_test_id("summary-trades")).to_have_text("2 trades")
    expect(page.get_by_test_id("summary-sentence")).to_have_text(
        "4 fills stored, 2 trades rebuilt."
    )
    shots(page, "03-summary")
    history = page.get_by_test_id("import-history")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr").first).to_contain_text("done")

    # The run holds the two trades, priced when the instrument is given a multiplier.
    link = page.get_by_test_id("summary-run-link")
    run_id = int(re.sub(r"\D", "", link.inner_text()))
    run = api.get(f"/api/runs/{run_id}").raise_for_status().json()
    # The new run's name is its strategy's (its key is the import's: import-<id>).
    assert (run["strategy"]["name"], run["mode"], run["execution_count"]) == (
        "NT sim December", "paper", 4
    )  # fmt: skip
    link.click()
    expect(page).to_have_url(f"{server.url}/runs/{run_id}")
    trades = page.get_by_test_id("run-trades")
    expect(trades.locator("tbody tr")).to_have_count(2)
    expect(trades).to_contain_text("MES 12-23")
    shots(page, "04-run")

    # The same file again: every fill a duplicate, nothing stored.
    page.goto(f"{server.url}/import")
    page.locator("input[name=tz]").fill("America/New_York")
    drop(page, "NinjaTrader Grid 2023-12-15.csv", NINJATRADER)
    expect(page.get_by_test_id("preview-duplicates-total")).to_have_text("4")
    expect(page.get_by_test_id("preview-duplicates").locator("li")).to_have_count(4)
    expect(page.get_by_test_id("preview-fills-total")).to_have_text("0")
    expect(page.get_by_test_id("preview-sentence")).to_have_text(
        "4 rows read, 0 new fills to store, 4 duplicates already stored."
    )
    confirm = page.get_by_test_id("import-confirm")
    confirm.get_by_label("An existing run").check()
    confirm.locator("select[name=run-id]").select_option(str(run_id))
    confirm_and_finish(page)
    expect(page.get_by_test_id("summary-stored")).to_have_text("0 fills")
    expect(page.get_by_test_id("summary-duplicates")).to_have_text("4 fills")
    assert api.get(f"/api/runs/{run_id}").json()["execution_count"] == 4

    # Another broker's CSV: the column picker, filled from the header; a date format and
    # zone; the preview follows; the mapping saved by name.
    page.get_by_role("button", name="Import another file").click()
    drop(page, "broker.csv", GENERIC)
    mapper = page.get_by_test_id("import-mapper")
    expect(mapper).to_be_visible()
    expect(mapper.locator("select[name=map-time]")).to_have_value("Trade Date")
    mapper.locator("select[name=map-qty]").select_option("Contracts")
    mapper.locator("select[name=map-price]").select_option("Fill")
    mapper.locator("select[name=map-execution_id]").select_option("Ref")
    mapper.locator("input[name=map-tz]").fill("America/Chicago")
    mapper.locator("input[name=map-date-format]").fill("%Y-%m-%d %H:%M:%S")
    expect(page.get_by_test_id("preview-fills").locator("tbody tr")).to_have_count(2)
    # 15:00 in Chicago on 2024-03-04 (CST, UTC-6) is 21:00 UTC, 22:00 in Berlin.
    expect(utc_cell(page, 0)).to_have_text("2024-03-04 21:00:00 UTC")
    assert cells(page, "preview-fills", 0)[:9] == [
        "2", "2024-03-04 21:00:00 UTC", "03/04/2024, 10:00:00 PM", "MNQH4", "buy", "1",
        "18,050.25", "0.52", "generic_csv:g-1",
    ]  # fmt: skip
    mapper.locator("input[name=save-as]").fill("My futures broker")
    mapper.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_test_id("mapping-saved")).to_have_text('Saved as "My futures broker".')
    saved = api.get("/api/imports/mappings").raise_for_status().json()
    assert [m["name"] for m in saved] == ["My futures broker"]
    assert saved[0]["mapping"]["qty"] == "Contracts"
    shots(page, "05-mapper")
    confirm_and_finish(page)
    expect(page.get_by_test_id("summary-stored")).to_have_text("2 fills")
    expect(page.get_by_test_id("summary-trades")).to_have_text("1 trade")

    # The next file of that broker: the saved mapping picked, the preview at once.
    page.get_by_role("button", name="Import another file").click()
    drop(page, "broker-next.csv", GENERIC_NEXT)
    mapper = page.get_by_test_id("import-mapper")
    mapper.locator("select[name=saved-mapping]").select_option("My futures broker")
    expect(mapper.locator("select[name=map-qty]")).to_have_value("Contracts")
    expect(utc_cell(page, 0)).to_have_text("2024-03-05 21:00:00 UTC")
    assert cells(page, "preview-fills", 0)[:9] == [
        "2", "2024-03-05 21:00:00 UTC", "03/05/2024, 10:00:00 PM", "MNQH4", "sell", "2",
        "18,100", "1.04", "generic_csv:g-3",
    ]  # fmt: skip
    confirm_and_finish(page)
    expect(page.get_by_test_id("summary-stored")).to_have_text("2 fills")
    expect(page.get_by_test_id("import-history").locator("tbody tr")).to_have_count(4)
    shots(page, "06-history")

    # Light mode (the default is dark) reads as well.
    page.get_by_role("button", name="Toggle theme").click()
    shots(page, "07-light")
    assert console.errors == [], json.dumps(console.errors, indent=1)
