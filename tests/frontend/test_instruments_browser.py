"""Instruments, dashboard backtests, demo data and the first minute, in Debian's Chromium (issue 24).

Against a real backend process: a CLI-style backtest pushes `SYNMES` (multiplier 5,
tick 0.25); the Instruments page lists it, an edit that re-prices its trades shows
the warning and applies only once confirmed; a backtest launched from the Backtests
page shows the stored contract read-only and leaves the instrument as it was; the
demo data loads from Settings and fills the trades page; and the Settings snippet,
run as a new user would run it, installs the SDK from this server and pushes a trade
with bars. Screenshots at 1440 and 390 px go to tests/artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from services.backtester.data import write_csv
from services.backtester.matching import FillRules
from services.backtester.runner import PushTarget, RunSpec, run_backtest
from services.backtester.sinks import Instrument
from services.backtester.synthetic import START_NS, random_walk
from tests.frontend.browser import BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch, phone_shots
from tests.live_server import LiveServer

pytestmark = BROWSER_MARKS


def shots(page: Page, name: str) -> None:
    phone_shots(page, f"instruments-{name}")


def test_instruments_backtests_demo_and_the_first_minute(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    alice = server.create_account("alice")
    cli = run_backtest(
        RunSpec(data=random_walk(12_000, seed=41), strategy="ma_cross", interval="1m",
                params={"fast": 5, "slow": 20}, instrument=Instrument("SYNMES", 5.0, 0.25),
                rules=FillRules(commission_per_contract=0.62), initial_capital=25_000.0),
        push=PushTarget(server.url, alice.api_key, spool_dir=tmp_path / "spool"),
    )  # fmt: skip
    assert cli.pushed is not None
    api = httpx.Client(base_url=server.url, headers=alice.headers, timeout=30)

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = ConsoleWatch(page)
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Live by default: an empty live dashboard says so and offers the modes there are
    empty = page.get_by_test_id("dashboard-empty")
    expect(empty).to_contain_text("No live runs yet; you have 1 backtest run.")
    empty.get_by_role("button", name="Show all modes").click()
    expect(page.get_by_test_id("mode-caption")).to_contain_text("All modes: 1 run (1 backtest)")
    expect(empty).to_be_hidden()
    page.get_by_label("Run mode").select_option("live")

    # Instruments: SYNMES with what it prices; an edit that re-prices asks first
    page.get_by_role("link", name="Instruments").click()
    table = page.get_by_test_id("instruments")
    row = table.locator("tr", has_text="SYNMES")
    expect(row).to_contain_text("0.25")
    trades = api.get("/api/instruments/SYNMES").json()["trade_count"]
    assert trades > 3
    expect(row).to_contain_text(str(trades))
    shots(page, "01-list")
    row.get_by_role("button", name="Edit SYNMES").click()
    editor = page.get_by_test_id("instrument-editor")
    expect(editor.locator("input[name=multiplier]")).to_have_value("5")
    editor.locator("input[name=default_risk]").fill("2")
    editor.get_by_role("button", name="Save").click()
    warning = editor.get_by_test_id("reprice-warning")
    expect(warning).to_contain_text(f"re-prices {trades} trades in 1 run")
    expect(warning).to_contain_text("default risk none → 2")
    assert api.get("/api/instruments/SYNMES").json()["default_risk"] is None  # not yet
    shots(page, "02-warning")
    warning.get_by_role("button", name=f"Re-price {trades} trades and save").click()
    expect(editor).to_be_hidden()
    expect(row).to_contain_text("2")
    assert api.get("/api/instruments/SYNMES").json()["default_risk"] == 2.0
    stored = api.get("/api/instruments").json()

    # Backtests: the stored contract is shown read-only; the run leaves it as it was
    page.get_by_role("link", name="Backtests", exact=True).click()
    form = page.get_by_test_id("backtest-form")
    form.get_by_label("Symbol (stored 1s bars)").fill("SYNMES")
    expect(form.get_by_test_id("stored-instrument")).to_contain_text("SYNMES is a stored instrument")
    expect(form.locator("input[name=multiplier]")).to_have_value("5")
    expect(form.locator("input[name=multiplier]")).to_have_attribute("readonly", "")
    expect(form.locator("input[name=tick_size]")).to_have_value("0.25")
    form.locator("input[name=commission]").fill("0.62")
    form.locator("input[name=slippage_ticks]").fill("1")
    form.locator("input[name=initial_capital]").fill("25000")
    form.get_by_label("Interval").fill("1m")
    csv = tmp_path / "1s.csv"
    write_csv(csv, random_walk(7_200, seed=42, start_ns=START_NS + 86_400 * 10**9))
    form.locator("input[type=file]").set_input_files(csv)
    form.get_by_role("button", name="Launch backtest").click()
    backtests = page.get_by_test_id("backtests")
    expect(backtests.locator("[data-status=completed]")).to_be_visible(timeout=120_000)
    shots(page, "03-backtests")
    (launched,) = api.get("/api/backtests").json()
    assert launched["settings"]["multiplier"] == 5.0
    assert launched["settings"]["commission"] == 0.62
    assert launched["settings"]["initial_capital"] == 25_000.0
    after = api.get("/api/instruments").json()
    assert [{k: v for k, v in i.items() if k not in ("run_count", "trade_count")} for i in after] \
        == [{k: v for k, v in i.items() if k not in ("run_count", "trade_count")} for i in stored]
    assert after[0]["run_count"] == 2
    new_trades = api.get(f"/api/runs/{launched['run_id']}/trades").json()["items"]
    assert new_trades
    assert {t["multiplier"] for t in new_trades} == {5.0}

    # Demo data from Settings: loads, then the trades page is full of DEMO trades
    page.get_by_role("link", name="Settings").click()
    demo = page.get_by_test_id("demo-data")
    demo.get_by_role("button", name="Load demo data").click()
    expect(demo.get_by_test_id("demo-state")).to_have_attribute("data-status", "completed",
                                                                timeout=120_000)  # fmt: skip
    expect(demo.get_by_role("link", name="Open the demo run")).to_be_visible()
    shots(page, "04-settings-demo")
    page.get_by_role("link", name="Trades", exact=True).click()
    expect(page.locator("tbody tr", has_text="DEMO").first).to_be_visible()
    shots(page, "05-trades-with-demo")

    # The first minute: a key, its snippet, run as printed (SDK from this server)
    page.get_by_role("link", name="Settings").click()
    page.fill("input[name=key-name]", "first-run")
    page.get_by_role("button", name="Create key").click()
    install = page.get_by_test_id("sdk-install").inner_text()
    assert install == f'pip install "{server.url}/downloads/fillbook_exporter-0.1.0-py3-none-any.whl"'
    snippet = page.get_by_test_id("snippet").inner_text()
    shots(page, "06-settings-snippet")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), install.split('"')[1]], check=True, timeout=120)  # fmt: skip
    script = tmp_path / "first_run.py"
    script.write_text(snippet)
    env = {**os.environ, "PYTHONPATH": str(target), "FILLBOOK_SPOOL_DIR": str(tmp_path / "sp")}
    ran = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    # the instrument, 30 bars, 2 fills and the run end
    assert ran.stdout.startswith("sent 34 events to "), ran.stdout
    assert "0 rejected); trades: derived" in ran.stdout, ran.stdout
    (first,) = api.get("/api/trades", params={"symbol": "MESZ3"}).json()["items"]
    assert (first["gross_pnl"], first["net_pnl"], first["multiplier"]) == (16.25, 15.51, 5.0)
    run = api.get(f"/api/runs/{first['run_id']}").json()
    assert run["initial_capital"] == 25_000.0
    assert run["mode"] == "paper"
    page.goto(f"{server.url}/trades/{first['id']}")
    expect(page.get_by_test_id("trade-multiplier")).to_contain_text("×5 per point")
    expect(page.locator("canvas").first).to_be_visible()
    shots(page, "07-first-trade")

    # Removing the demo leaves everything else
    page.get_by_role("link", name="Settings").click()
    page.get_by_test_id("demo-data").get_by_role("button", name="Remove demo data").click()
    expect(page.get_by_test_id("demo-data").get_by_role("button", name="Load demo data")).to_be_visible()
    sources = sorted(r["source"] for r in api.get("/api/runs").json()["items"])
    assert sources == ["backtester", "backtester", "first-run"]
    assert console.errors == []
    context.close()
    api.close()

    # A newcomer's dashboard offers the demo where they land
    server.create_account("bob")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("dashboard-empty")).to_contain_text("No runs yet")
    page.get_by_test_id("demo-data").get_by_role("button", name="Load demo data").click()
    # The demo is a backtest: the live dashboard says so and shows it with every mode
    empty = page.get_by_test_id("dashboard-empty")
    expect(empty).to_contain_text("No live runs yet; you have 1 backtest run.", timeout=120_000)
    empty.get_by_role("button", name="Show all modes").click()
    recent = page.get_by_test_id("recent-trades")
    expect(recent.locator("tbody tr", has_text="DEMO").first).to_be_visible(timeout=120_000)
    shots(page, "08-newcomer-dashboard")
    context.close()
