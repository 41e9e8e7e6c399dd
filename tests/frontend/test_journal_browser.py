"""Journaling in Debian's Chromium against a real backend process (issue 18).

One walk as a trader takes it: create a playbook with rules and the mistakes list, push
a day of trades, assign the playbook on a trade's page and tick its rules, paste a
screenshot (a real paste event holding a PNG), see its thumbnail and open it full size,
review trades with the keyboard ("r", "n"), write the day's journal (markdown preview,
ratings, template, unsaved-changes warning), filter the trades list by "not yet
reviewed" and by a mistake, and read the playbook's rule breakdown. A second tab sees a
review made elsewhere without a reload. Screenshots of each page at 1440 and 390 px go
to tests/artifacts/; any console error fails the test.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.frontend import demo_data
from tests.frontend.browser import BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch, phone_shots
from tests.live_server import LiveServer

DAY = "2023-12-15"  # the trades' day (UTC, the account's zone)
PLAYBOOK = "ORB retest"
RULES = ["Entry on a retest", "Stop below the swing low", "No trade in the first 5 minutes"]

pytestmark = BROWSER_MARKS

# A 640x360 PNG drawn in the page, pasted as the clipboard would paste it.
PASTE_PNG = """async (name) => {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 360;
  const g = canvas.getContext("2d");
  g.fillStyle = "#26a69a"; g.fillRect(0, 0, 640, 360);
  g.fillStyle = "#ffffff"; g.fillRect(40, 40, 200, 100);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], name, { type: "image/png" }));
  document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


# The same image dropped on a drop zone (drag and drop from the desktop).
DROP_PNG = PASTE_PNG.replace(
    'document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));',
    'document.querySelector("[data-testid=drop-zone]").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));',
)
assert DROP_PNG != PASTE_PNG


def shots(page: Page, name: str) -> None:
    phone_shots(page, f"journal-{name}")


def money(value: float) -> str:
    """As the dashboard shows an amount in an en-US browser."""
    text = f"${abs(value):,.2f}"
    return f"-{text}" if value < 0 and round(abs(value), 2) != 0 else text


def blur(page: Page) -> None:
    """Leave the field that has focus, so single-key shortcuts are the page's."""
    page.evaluate("document.activeElement instanceof HTMLElement && document.activeElement.blur()")


def push_day(server: LiveServer, ingest_headers: dict[str, str]) -> dict[str, Any]:
    """Three round trips on 2023-12-15 (UTC), derived before the answer comes."""
    bars = demo_data.bars(count=60)
    events = [demo_data.instrument(), *bars, *demo_data.round_trips(bars, count=3, prefix="jr")]
    response = httpx.post(
        f"{server.url}/api/ingest?wait=derived&timeout=30", headers=ingest_headers,
        json={"source": "journal-test", "run": demo_data.run_ref("journal-live", "live"), "events": events},
        timeout=60,
    )  # fmt: skip
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    assert body["derivation"]["state"] == "derived", body
    return body


def test_playbook_ticks_screenshot_review_journal_filters_breakdown(
    server: LiveServer, browser: Browser
) -> None:
    account = server.create_account("trader")
    api = httpx.Client(base_url=server.url, headers=account.headers, timeout=30)
    run_id = push_day(server, account.ingest_headers)["run_id"]
    trades = api.get("/api/trades", params={"sort": "entry_ts"}).raise_for_status().json()["items"]
    assert len(trades) == 3
    t1, t2, t3 = trades
    assert all(t["entry_ts"].startswith(DAY) for t in trades)

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
    page = context.new_page()
    console = ConsoleWatch(page)

    # The mistakes list, then a playbook with a checklist: three rules added, one added and
    # removed, the last moved up to second place.
    page.goto(f"{server.url}/playbooks")
    expect(page.get_by_role("heading", name="Playbooks", exact=True)).to_be_visible()
    mistakes = page.get_by_test_id("mistakes")
    for name in ("moved stop", "FOMO"):
        mistakes.locator("input[name=mistake-name]").fill(name)
        mistakes.get_by_role("button", name="Add mistake").click()
        expect(page.get_by_test_id("mistake-list")).to_contain_text(name)
    page.get_by_role("link", name="New playbook").click()
    form = page.get_by_test_id("playbook-form")
    form.locator("input[name=name]").fill(PLAYBOOK)
    form.locator("textarea[name=description]").fill(
        "Break of the opening range, entered on the retest."
    )
    form.locator("textarea[name=conditions]").fill("Trending open")
    new_rule = form.get_by_label("New rule")
    for text in [RULES[0], RULES[2], "to be removed", RULES[1]]:
        new_rule.fill(text)
        new_rule.press("Enter")
    form.get_by_role("button", name="Remove rule 3").click()
    form.get_by_role("button", name="Move rule 3 up").click()
    expect(form.get_by_label("Rule 2", exact=True)).to_have_value(RULES[1])
    form.get_by_role("button", name="Create playbook").click()
    expect(page.get_by_role("heading", name=f"Playbook: {PLAYBOOK}")).to_be_visible()
    playbook_id = int(page.url.rsplit("/", 1)[1])
    stored = api.get(f"/api/playbooks/{playbook_id}").raise_for_status().json()
    assert [r["text"] for r in stored["rules"]] == RULES
    assert stored["conditions"] == "Trending open"
    shots(page, "01-playbook-new")

    # The first trade: assign the playbook, tick its rules in their three states, a mistake
    # picked and one created inline.
    page.goto(f"{server.url}/trades/{t1['id']}")
    review = page.get_by_test_id("trade-review")
    review.locator("select[name=playbook]").select_option(label=PLAYBOOK)
    ticks = page.get_by_test_id("rule-ticks")
    expect(ticks.locator("button.tick")).to_have_count(3)
    first_rule = ticks.get_by_role("button", name=re.compile(f"^{RULES[0]}:"))
    second_rule = ticks.get_by_role("button", name=re.compile(f"^{RULES[1]}:"))
    expect(first_rule).to_have_attribute("data-tick", "not ticked")
    first_rule.click()
    expect(first_rule).to_have_attribute("data-tick", "followed")
    second_rule.click()
    expect(second_rule).to_have_attribute("data-tick", "followed")
    second_rule.click()
    expect(second_rule).to_have_attribute("data-tick", "broken")
    expect(page.get_by_test_id("adherence")).to_have_text("50%")
    review.get_by_label("moved stop").click()
    expect(review.get_by_label("moved stop")).to_be_checked()
    review.get_by_label("New mistake").fill("oversized")
    review.get_by_role("button", name="Add", exact=True).click()
    expect(review.get_by_label("oversized")).to_be_checked()
    journal = api.get(f"/api/trades/{t1['id']}").raise_for_status().json()["journal"]
    assert journal["playbook_id"] == playbook_id
    assert journal["playbook_source"] == "manual"
    assert [(r["text"], r["followed"]) for r in journal["rules"]] == [
        (RULES[0], True), (RULES[1], False), (RULES[2], None)
    ]  # fmt: skip
    assert sorted(m["name"] for m in journal["mistakes"]) == ["moved stop", "oversized"]
    assert journal["adherence"] == 0.5

    # A screenshot pasted (Ctrl+V anywhere on the page): its thumbnail, then full size.
    blur(page)
    page.evaluate(PASTE_PNG, "entry.png")
    shelf = page.get_by_test_id("attachments-trade")
    thumbnail = shelf.get_by_test_id("thumbnail")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_have_attribute("src", re.compile(r"^blob:"))
    assert thumbnail.evaluate("img => img.naturalWidth") == 320  # fits 320x320
    listed = api.get("/api/attachments", params={"target": "trade", "key": str(t1["id"])}).json()
    assert [(a["filename"], a["width"], a["height"], a["content_type"]) for a in listed] == [
        ("entry.png", 640, 360, "image/png")
    ]
    shelf.get_by_role("button", name="Open entry.png").click()
    full = page.get_by_test_id("lightbox-image")
    expect(full).to_be_visible()
    expect(full).to_have_attribute("src", re.compile(r"^blob:"))
    assert full.evaluate("img => img.naturalWidth") == 640
    shots(page, "02-trade-lightbox")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("lightbox")).to_have_count(0)
    shots(page, "03-trade-journal")

    # Keyboard review: "r" marks this trade reviewed, "n" opens the next unreviewed one;
    # an "r" typed into the notes is only text.
    toggle = page.get_by_test_id("review-toggle")
    expect(page.get_by_test_id("key-hint")).to_contain_text("marks this trade reviewed")
    blur(page)
    page.keyboard.press("r")
    expect(toggle).to_have_attribute("data-state", "reviewed")
    page.keyboard.press("n")
    expect(page).to_have_url(f"{server.url}/trades/{t2['id']}")
    expect(page.get_by_role("heading", name=re.compile(f"Trade {t2['id']}:"))).to_be_visible()
    expect(toggle).to_have_attribute("data-state", "new")
    page.keyboard.press("r")
    expect(toggle).to_have_attribute("data-state", "reviewed")
    page.keyboard.press("n")
    expect(page).to_have_url(f"{server.url}/trades/{t3['id']}")
    expect(toggle).to_have_attribute("data-state", "new")
    notes = page.locator("textarea[name=notes]")
    notes.click()
    notes.press("r")
    expect(notes).to_have_value("r")
    expect(toggle).to_have_attribute("data-state", "new")
    notes.fill("")
    states = {
        t["id"]: api.get(f"/api/trades/{t['id']}").json()["journal"]["review_state"] for t in trades
    }
    assert states == {t1["id"]: "reviewed", t2["id"]: "reviewed", t3["id"]: "new"}

    # A second tab on the same trade sees a review made elsewhere, without a reload.
    other = context.new_page()
    other_console = ConsoleWatch(other)
    other.goto(f"{server.url}/trades/{t3['id']}")
    expect(other.get_by_test_id("stream-state")).to_have_text("live")
    other.evaluate("window.__sameDocument = true")
    api.put(f"/api/trades/{t3['id']}/journal", json={"mistake_ids": [m["id"] for m in api.get("/api/mistakes").json() if m["name"] == "FOMO"]}).raise_for_status()  # fmt: skip
    expect(other.get_by_test_id("trade-review").get_by_label("FOMO")).to_be_checked()
    assert other.evaluate("window.__sameDocument") is True
    other.close()

    # The journal, opened from the dashboard calendar's day. The template first: a day
    # without an entry starts its plan with it.
    page.goto(f"{server.url}/")
    page.locator(f"[data-testid=calendar] a[data-day='{DAY}']").click()
    expect(page).to_have_url(f"{server.url}/journal/{DAY}")
    template = page.get_by_test_id("journal-template")
    template.locator("summary").click()
    template.get_by_label("Plan template").fill("## Levels\n- ")
    template.get_by_role("button", name="Save template").click()
    expect(template).to_contain_text("Template saved")
    page.locator("a[data-day='2023-12-14']").click()
    expect(page).to_have_url(f"{server.url}/journal/2023-12-14")
    expect(page.locator("textarea[name=plan]")).to_have_value("## Levels\n- ")
    page.locator(f"a[data-day='{DAY}']").click()
    entry = page.get_by_test_id("journal-entry")
    expect(entry).to_contain_text("Friday, December 15, 2023")
    entry.locator("textarea[name=plan]").fill("## Plan\n- wait for the **retest**")
    entry.locator("textarea[name=review]").fill(
        "Followed the plan. <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    )
    entry.locator("select[name=mood]").select_option("4")
    entry.locator("select[name=discipline]").select_option("3")
    entry.get_by_test_id("md-plan").get_by_role("tab", name="Preview").click()
    expect(entry.get_by_test_id("preview-plan").locator("h2")).to_have_text("Plan")
    expect(entry.get_by_test_id("preview-plan").locator("strong")).to_have_text("retest")
    entry.get_by_test_id("md-review").get_by_role("tab", name="Preview").click()
    review_preview = entry.get_by_test_id("preview-review")
    expect(review_preview).to_contain_text("Followed the plan.")
    expect(review_preview.locator("img")).to_have_count(0)  # raw HTML is not rendered
    assert "javascript:" not in (review_preview.locator("a").get_attribute("href") or "")
    # Unsaved: leaving asks first; Cancel stays on the day.
    expect(entry.get_by_test_id("day-unsaved")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("link", name="Trades", exact=True).click()
    expect(page).to_have_url(f"{server.url}/journal/{DAY}")
    entry.get_by_role("button", name="Save day").click()
    expect(entry.get_by_test_id("day-saved")).to_have_text("Saved")
    day_pnl = round(sum(t["net_pnl"] for t in trades), 2)
    expect(page.get_by_test_id("day-net-pnl")).to_have_text(money(day_pnl))
    expect(page.get_by_test_id("day-trades").locator("tbody tr")).to_have_count(3)
    blur(page)
    page.evaluate(PASTE_PNG, "day.png")
    expect(page.get_by_test_id("attachments-day").get_by_test_id("thumbnail")).to_have_count(1)
    stored_day = api.get(f"/api/journal/days/{DAY}").raise_for_status().json()
    assert (stored_day["plan"], stored_day["mood"], stored_day["discipline"], stored_day["exists"]) == (
        "## Plan\n- wait for the **retest**", 4, 3, True
    )  # fmt: skip
    page.reload()
    expect(page.locator("textarea[name=plan]")).to_have_value("## Plan\n- wait for the **retest**")
    expect(page.locator(f"a[data-day='{DAY}']")).to_contain_text("✎")
    shots(page, "04-journal-day")

    # The trades list: "not yet reviewed", then a mistake; in the URL like every filter.
    page.get_by_role("link", name="Trades", exact=True).click()
    rows = page.get_by_test_id("trades").locator("tbody tr[tabindex='0']")
    expect(rows).to_have_count(3)
    page.get_by_label("Review", exact=True).select_option(label="not yet reviewed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(str(t3["id"]))
    assert "review=new" in page.url
    shots(page, "05-trades-not-reviewed")
    page.get_by_label("Review", exact=True).select_option(label="all")
    page.get_by_label("Mistake", exact=True).select_option(label="moved stop")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(PLAYBOOK)
    expect(rows.first).to_contain_text("moved stop, oversized")
    expect(rows.first).to_contain_text("reviewed")
    # "n" walks the list the trade was opened from: after its only ("moved stop") trade there
    # is no unreviewed one, although t3 is unreviewed in the unfiltered list.
    rows.first.click()
    expect(page).to_have_url(f"{server.url}/trades/{t1['id']}")
    expect(page.get_by_role("heading", name=re.compile(f"Trade {t1['id']}:"))).to_be_visible()
    blur(page)
    page.keyboard.press("n")
    expect(page.get_by_test_id("key-note")).to_have_text(
        "No unreviewed trade after this one in the list you came from."
    )
    expect(page).to_have_url(f"{server.url}/trades/{t1['id']}")
    page.go_back()
    expect(rows).to_have_count(1)
    page.reload()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Mistake", exact=True)).to_have_value(re.compile(r"^\d+$"))
    page.get_by_label("Mistake", exact=True).select_option(label="any")
    page.get_by_label("Playbook", exact=True).select_option(label="no playbook")
    expect(rows).to_have_count(2)

    # The playbook's breakdown: its trades' metrics, each rule followed vs broken.
    page.goto(f"{server.url}/playbooks")
    playbook_row = page.get_by_test_id("playbooks").locator("tr", has_text=PLAYBOOK)
    expect(playbook_row).to_contain_text("50%")
    shots(page, "06-playbooks")
    playbook_row.get_by_role("link", name=PLAYBOOK).click()
    page.evaluate(DROP_PNG, "setup.png")
    dropped = page.get_by_test_id("attachments-playbook")
    expect(dropped.get_by_test_id("thumbnail")).to_have_count(1)
    listed = api.get("/api/attachments", params={"target": "playbook", "key": str(playbook_id)})
    assert [a["filename"] for a in listed.json()] == ["setup.png"]
    analytics = api.get(f"/api/playbooks/{playbook_id}/analytics").raise_for_status().json()
    assert analytics["trades"] == 1
    expect(page.locator("[data-testid=playbook-analytics] [data-metric=net_pnl]")).to_have_text(
        money(t1["net_pnl"])
    )
    table = page.get_by_test_id("rule-table")
    expect(table.locator("th")).to_have_text([
        "Rule", "Side", "Closed trades (count)", "Net P&L ($)", "Win rate (%)",
        "Expectancy per trade ($)", "Profit factor (ratio)",
    ])  # fmt: skip
    followed = table.locator(f"tr[data-rule='{RULES[0]}']").first
    expect(followed.locator("[data-outcome=trades]")).to_have_text("1")
    expect(followed.locator("[data-outcome=net_pnl]")).to_have_text(money(t1["net_pnl"]))
    broken = table.locator(f"tr[data-rule='{RULES[1]}'][data-side=broken]")
    expect(broken.locator("[data-outcome=trades]")).to_have_text("1")
    expect(broken.locator("[data-outcome=net_pnl]")).to_have_text(money(t1["net_pnl"]))
    untouched = table.locator(f"tr[data-rule='{RULES[2]}']").first
    expect(untouched.locator("[data-outcome=trades]")).to_have_text("0")
    expect(
        page.get_by_test_id("rule-chart").locator(".recharts-bar-rectangle").first
    ).to_be_visible()
    shots(page, "07-playbook-breakdown")

    # The run's breakdown by playbook.
    page.goto(f"{server.url}/runs/{run_id}")
    page.get_by_role("tab", name="playbook").click()
    expect(page.locator("table.data").filter(has_text="No playbook").first).to_contain_text(
        PLAYBOOK
    )

    assert console.errors == []
    assert other_console.errors == []
    context.close()
