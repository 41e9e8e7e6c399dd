"""The dashboard in Debian's Chromium against a real backend process.

One journey, as a user would take it: register, create an API key, push a run
through the Python exporter while the dashboard is open (its trades appear without
a reload), open a trade (chart with markers), edit its notes, revoke the key.
Screenshots of every page go to tests/artifacts/ for a person to look at; any
console error on any page fails the test.

Needs the built bundle (`make test` runs `npm ci && npm run build` first) and
/usr/bin/chromium (scripts/ensure-system-deps.sh installs it). Playwright drives
the system browser; it never downloads one.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.frontend import demo_data
from tests.frontend.browser import ARTIFACTS, BROWSER_MARKS, TIMEOUT_MS, ConsoleWatch
from tests.live_server import LiveServer, free_port
from tests.training_node_server import NodeServer

pytestmark = BROWSER_MARKS


NODE_TOKEN = "browser-test-node-token-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The backend with a training node of its own (both real processes)."""
    folder = tmp_path_factory.mktemp("browser")
    node = NodeServer(folder / "node", port=free_port(), token=NODE_TOKEN)
    node_env = {"TRAINING_NODE_URL": node.url, "TRAINING_NODE_TOKEN": NODE_TOKEN}
    with node, LiveServer(folder / "backend", env=node_env) as live:
        yield live


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def push_run(url: str, api_key: str, spool: Path) -> None:
    """A backtest-like day through the real exporter, with one event the API rejects."""
    from fillbook_exporter import Exporter

    bars = demo_data.bars()
    run = demo_data.run_ref("browser-live", "live", "ORB")
    with Exporter(url, api_key, "browser-test", run=run, spool_path=spool) as exporter:
        exporter.instrument(demo_data.SYMBOL, multiplier=5, tick_size=0.25)
        with exporter.group():
            live_trades = demo_data.round_trips(bars, prefix="br", slippage=0.25, delay_s=2)
            for event in [*bars, *live_trades]:
                exporter.event(event)
        # The SDK refuses a negative qty before sending it (its input-domain checks), so
        # the event the API rejects goes as a client without those checks sends it.
        bad = {"type": "execution", "id": "bad-1", "ts": bars[-1]["ts"],
               "symbol": demo_data.SYMBOL, "side": "buy", "qty": -1, "price": 1.0}  # fmt: skip
        answer = httpx.post(f"{url}/api/ingest", headers={"Authorization": f"Bearer {api_key}"},
                            json={"source": "browser-test", "run": run, "events": [bad]})  # fmt: skip
        assert [r["id"] for r in answer.json()["rejected"]] == ["bad-1"], answer.text
        exporter.end(demo_data.START + dt.timedelta(days=3))
        exporter.flush(30)


def one_second_csv(path: Path, seconds: int = 4 * 3600) -> Path:
    """A random walk of 1-second OHLCV bars as the backtester reads them (Unix ms first)."""
    rng = random.Random(11)
    start_ms = int(demo_data.START.timestamp() * 1000)
    price, lines = 4700.0, []
    for i in range(seconds):
        close = max(1.0, price + rng.choice((-0.25, 0.0, 0.25)))
        high, low = max(price, close) + 0.25 * rng.random(), min(price, close) - 0.25 * rng.random()
        lines.append(f"{start_ms + 1000 * i},{price},{high:.2f},{low:.2f},{close},{rng.randint(1, 9)}")
        price = close
    path.write_text("\n".join(lines) + "\n")
    return path


class TestDashboardJourney:
    def test_register_push_review_journal_revoke(
        self, server: LiveServer, browser: Browser, tmp_path: Path
    ) -> None:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        console = ConsoleWatch(page)
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))

        # Register: a missing password is caught inline, then the account is created.
        document = page.goto(f"{server.url}/register")
        # The whole journey runs under the dashboard's policy (backend/api/headers.py): a
        # violation is a console error, which fails the test at the end.
        assert document is not None
        assert "script-src 'self'" in document.headers["content-security-policy"]
        page.fill("input[name=username]", "alice")
        page.click("button[type=submit]")
        expect(page.locator("#password-error")).to_have_text("enter a password")
        shot(page, "01-register")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page.get_by_test_id("stream-state")).to_have_text("live")
        # The live stream opened with a single-use ticket: no token in its URL.
        assert sockets, "no WebSocket opened"
        assert all("/api/stream?ticket=st_" in url and "token=" not in url for url in sockets), sockets

        # An API key, shown once with the exporter snippet. The exporter only pushes, so the
        # key keeps the default scope: ingest, pre-ticked alone.
        page.get_by_role("link", name="Settings").click()
        picker = page.get_by_test_id("key-scopes-picker")
        expect(picker.locator("input[name=scope-ingest]")).to_be_checked()
        boxes = picker.locator("input[type=checkbox]")
        expect(boxes).to_have_count(6)
        assert [box.is_checked() for box in boxes.all()] == [True] + [False] * 5
        expect(picker).to_contain_text("write:journal")
        page.fill("input[name=key-name]", "browser-test")
        page.select_option("select[name=key-expiry]", "90")
        page.get_by_role("button", name="Create key").click()
        secret = page.get_by_test_id("api-key-secret").inner_text().strip()
        assert secret.startswith("fb_")
        expect(page.get_by_test_id("new-key")).to_contain_text("(ingest, expires ")
        row = page.get_by_test_id("api-keys").locator("tr", has_text="browser-test")
        expect(row.get_by_test_id("key-scopes")).to_have_text("ingest")
        expect(row).to_contain_text("never")  # not used yet, and it expires
        expect(page.get_by_test_id("snippet")).to_contain_text(secret)
        expect(page.get_by_test_id("snippet")).to_contain_text("from fillbook_exporter import Exporter")
        shot(page, "02-settings-new-key")

        # The dashboard is open while the exporter pushes: trades arrive without a reload.
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_test_id("recent-trades")).to_contain_text("No trades yet")
        page.evaluate("window.__sameDocument = true")
        push_run(server.url, secret, tmp_path / "spool.db")
        rows = page.get_by_test_id("recent-trades").locator("tbody tr")
        expect(rows).to_have_count(10)
        expect(page.locator("[data-metric=net_pnl]")).not_to_have_text("—")
        expect(page.get_by_test_id("activity")).to_contain_text("events stored")
        expect(page.get_by_test_id("activity")).to_contain_text("trades rebuilt for MESZ3")
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
        shot(page, "03-dashboard-live")

        # Every list page.
        for name, link, ready in (
            ("04-runs", "Runs", page.get_by_test_id("runs").locator("tbody tr[tabindex='0']").first),
            ("05-trades", "Trades", page.get_by_test_id("trades").locator("tbody tr").nth(11)),
            ("06-executions", "Executions", page.get_by_test_id("executions").locator("tbody tr").nth(5)),
            ("07-rejected", "Rejected", page.get_by_test_id("rejected").get_by_text("qty")),
            ("08-regimes", "Regimes", page.locator("[data-testid=candle-chart]:not([data-bars='0'])")),
        ):
            page.get_by_role("link", name=link, exact=True).click()
            expect(ready).to_be_visible()
            page.wait_for_load_state("networkidle")
            shot(page, name)
        expect(page.get_by_test_id("regime-matrix")).to_contain_text("trades")

        # Executions filtered on the server: a window after the last fill holds none.
        page.get_by_role("link", name="Executions", exact=True).click()
        expect(page.get_by_test_id("executions").locator("tbody tr[tabindex='0']")).to_have_count(36)
        page.get_by_label("From (UTC)").fill("2030-01-01T00:00:00")
        expect(page.get_by_test_id("executions")).to_contain_text("No fills match.")

        # The run's page.
        page.get_by_role("link", name="Runs", exact=True).click()
        page.get_by_test_id("runs").locator("tbody tr[tabindex='0']").first.press("Enter")
        expect(page.get_by_role("heading", name=re.compile(r"Run \d+: ORB"))).to_be_visible()
        expect(page.get_by_test_id("equity-chart")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shot(page, "09-run")

        # A trade: its chart holds bars and one marker per fill; keyboard opens it.
        bar_responses: list[tuple[dict[str, str], str]] = []
        page.on("response", lambda r: bar_responses.append(
            (dict(parse_qsl(urlsplit(r.url).query)), r.headers.get("content-type", ""))
        ) if "/api/bars?" in r.url else None)  # fmt: skip
        page.get_by_role("link", name="Trades", exact=True).click()
        trade_rows = page.get_by_test_id("trades").locator("tbody tr[tabindex='0']")
        expect(trade_rows).to_have_count(12)
        first = trade_rows.first
        first.focus()
        first.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=re.compile(r"Trade \d+"))).to_be_visible()
        chart = page.get_by_test_id("candle-chart")
        expect(chart).to_have_attribute("data-markers", "3")
        expect(chart).to_have_attribute("data-bars", re.compile(r"^[1-9]"))
        expect(chart.locator("canvas").first).to_be_visible()
        expect(page.get_by_test_id("fills").locator("tbody tr")).to_have_count(3)
        expect(page.get_by_test_id("mfe")).not_to_contain_text("—")
        shot(page, "10-trade")

        # Bars come as MessagePack in windows: the first around the trade, older ones as
        # the user drags the chart back in time.
        assert bar_responses
        assert all(t == "application/msgpack" for _q, t in bar_responses)
        first_window = next(q for q, _t in bar_responses if "start" in q and "end" in q)
        box = chart.bounding_box()
        assert box is not None
        for _ in range(3):
            page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
        expect(chart).to_have_attribute("data-bars", str(len(demo_data.bars())))
        assert any(
            int(q["end"]) <= int(first_window["start"]) for q, _t in bar_responses if "end" in q
        ), bar_responses

        # Its journal: notes, tags and setup are saved and come back after a reload.
        page.fill("input[name=setup]", "opening range breakout")
        page.fill("input[name=tags]", "A+, browser")
        page.fill("textarea[name=notes]", "Entered late; scale-in helped.")
        page.get_by_role("button", name="Save journal").click()
        expect(page.get_by_role("status")).to_have_text("Saved")
        page.reload()
        expect(page.locator("textarea[name=notes]")).to_have_value("Entered late; scale-in helped.")
        expect(page.locator("input[name=tags]")).to_have_value("A+, browser")

        # Compare the two runs of the same day (the demo pushes a backtest first).
        httpx.post(
            f"{server.url}/api/ingest",
            headers={"Authorization": f"Bearer {secret}"},
            json={"source": "browser-test", "run": demo_data.run_ref("browser-bt", "backtest"),
                  "events": [demo_data.instrument(), *demo_data.round_trips(demo_data.bars(), prefix="bt")]},
        ).raise_for_status()  # fmt: skip
        page.get_by_role("link", name="Runs", exact=True).click()
        expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(2)
        for tick in page.get_by_role("checkbox").all():
            tick.check()
        page.get_by_role("button", name=re.compile("Compare")).click()
        expect(page.get_by_role("heading", name=re.compile(r"Compare run \d+ \(backtest\)"))).to_be_visible()
        expect(page.get_by_test_id("matched").locator("tbody tr")).to_have_count(12)
        expect(page.get_by_test_id("mean-entry-slippage")).to_have_text("0.25")
        shot(page, "11-compare")

        # Training: the form refuses what the API would, then a small job runs to the end.
        page.get_by_role("link", name="Training", exact=True).click()
        form = page.get_by_test_id("training-form")
        picker = form.get_by_label("Run")
        run_value = picker.locator("option", has_text="browser-live").get_attribute("value")
        picker.select_option(value=run_value)
        form.locator("input[name=gamma]").fill("1.5")
        form.get_by_role("button", name="Start training").click()
        expect(form.get_by_text("must be ≤ 1")).to_be_visible()
        for name, value in (("gamma", "0.9"), ("steps", "200"), ("hidden_layers", "16"),
                            ("learning_starts", "20"), ("batch_size", "16"),
                            ("target_update_period", "50"), ("window", "4")):  # fmt: skip
            form.locator(f"input[name={name}]").fill(value)
        form.get_by_role("button", name="Start training").click()
        jobs = page.get_by_test_id("training-jobs")
        expect(jobs.locator("tbody tr[tabindex='0']")).to_have_count(1)
        expect(jobs.locator("[data-status=succeeded]")).to_be_visible(timeout=180_000)
        expect(jobs.get_by_role("button", name="model")).to_be_visible()
        with page.expect_download() as report:
            jobs.get_by_role("button", name="report").click()
        assert report.value.suggested_filename == "training-1-report.json"
        assert '"run_id"' in Path(report.value.path()).read_text()
        expect(page.get_by_test_id("job-detail").locator(".recharts-line").first).to_be_visible()
        shot(page, "12-training")

        # Backtests: launch one on an uploaded 1-second CSV and watch it complete.
        page.get_by_role("link", name="Backtests", exact=True).click()
        launch = page.get_by_test_id("backtest-form")
        launch.get_by_label("Interval").fill("1m")
        launch.locator("input[type=file]").set_input_files(one_second_csv(tmp_path / "1s.csv"))
        launch.get_by_role("button", name="Launch backtest").click()
        backtests = page.get_by_test_id("backtests")
        expect(backtests.locator("tbody tr[tabindex='0']")).to_have_count(1)
        expect(backtests.locator("[data-status=completed]")).to_be_visible(timeout=120_000)
        expect(backtests.get_by_role("link")).to_be_visible()
        shot(page, "13-backtests")

        # Revoke the key: the exporter's next push is refused.
        page.get_by_role("link", name="Settings").click()
        expect(row).not_to_contain_text("never")  # used now; expires in 90 days
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke browser-test").click()
        expect(page.get_by_test_id("api-keys")).to_contain_text("revoked")
        refused = httpx.post(
            f"{server.url}/api/ingest",
            headers={"Authorization": f"Bearer {secret}"},
            json={"source": "x", "run": {"key": "k"}, "events": [demo_data.instrument()]},
        )
        assert refused.status_code == 401, refused.text
        shot(page, "14-settings-revoked")

        # Light theme and a phone-width dashboard.
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_test_id("equity-chart")).to_be_visible()
        expect(page.get_by_test_id("recent-trades").locator("tbody tr")).to_have_count(10)
        page.get_by_role("button", name="Toggle theme").click()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        shot(page, "15-dashboard-light")
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("button", name="Toggle theme").click()
        shot(page, "16-dashboard-phone")
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Trades", exact=True)).to_be_visible()

        assert console.errors == []
        context.close()

    def test_login_errors_are_inline(
        self, server: LiveServer, browser: Browser
    ) -> None:
        server.create_account("bob", "right password")
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        # The refused login itself is the only error the browser may log.
        console = ConsoleWatch(page, allowed=("status of 401",))
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "bob")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        expect(page.get_by_test_id("form-error")).to_be_visible()
        shot(page, "00-login-error")
        page.fill("input[name=password]", "right password")
        page.click("button[type=submit]")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        assert console.errors == []
        context.close()

    def test_live_updates_come_back_after_a_backend_restart(
        self, server: LiveServer, browser: Browser
    ) -> None:
        account = server.create_account("carol")
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
        page = context.new_page()
        # While the backend is down the browser logs each refused stream ticket request
        # (and WebSocket); nothing else.
        refused_ticket = f"net::ERR_CONNECTION_REFUSED ({server.url}/api/stream/ticket)"
        console = ConsoleWatch(page, allowed=("WebSocket connection to", refused_ticket))
        page.goto(server.url)
        state = page.get_by_test_id("stream-state")
        expect(state).to_have_text("live")
        expect(page.get_by_test_id("recent-trades")).to_contain_text("No trades yet")
        page.wait_for_load_state("networkidle")
        page.evaluate("window.__sameDocument = true")
        server.kill()
        expect(state).not_to_have_text("live")
        server.start()
        expect(state).to_have_text("live", timeout=30_000)
        bars = demo_data.bars(count=40)
        events = [demo_data.instrument(), *bars, *demo_data.round_trips(bars, count=3)]
        httpx.post(
            f"{server.url}/api/ingest", headers=account.ingest_headers,
            json={"source": "carol", "run": demo_data.run_ref("after-restart"), "events": events},
        ).raise_for_status()  # fmt: skip
        expect(page.get_by_test_id("recent-trades").locator("tbody tr")).to_have_count(3)
        assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
        assert console.errors == []
        context.close()

    def test_a_position_that_cannot_be_rebuilt_is_named_on_the_run_and_trades_pages(
        self, server: LiveServer, browser: Browser
    ) -> None:
        account = server.create_account("dave")
        # A trade whose money is beyond what the books hold (docs/ingest.md, "Input domain"):
        # the fills are stored, their position is marked failed with the reason.
        events = [
            {"type": "execution", "id": "big-1", "ts": "2023-12-15T14:30:00Z", "symbol": "HUGE",
             "side": "buy", "qty": 9e7, "price": 1e-8},
            {"type": "execution", "id": "big-2", "ts": "2023-12-15T14:31:00Z", "symbol": "HUGE",
             "side": "sell", "qty": 9e7, "price": 9e7},
        ]  # fmt: skip
        response = httpx.post(  # the client waits longer than the server may (30 s)
            f"{server.url}/api/ingest?wait=derived&timeout=30", headers=account.ingest_headers,
            json={"source": "dave", "run": demo_data.run_ref("too-big"), "events": events},
            timeout=60,
        )  # fmt: skip
        response.raise_for_status()
        body = response.json()
        assert body["derivation"]["state"] == "failed"
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(f"localStorage.setItem('fillbook.token', {account.token!r})")
        page = context.new_page()
        console = ConsoleWatch(page)
        page.goto(f"{server.url}/runs/{body['run_id']}")
        note = page.get_by_test_id("derivation-note")
        expect(note).to_contain_text("1 position could not be rebuilt")
        expect(note).to_contain_text("HUGE")
        expect(note).to_contain_text("is beyond the 10,000,000,000 a trade may amount to")
        shot(page, "17-run-derivation-failed")
        page.goto(f"{server.url}/trades")
        expect(page.get_by_test_id("derivation-note")).to_contain_text(f"Run {body['run_id']}")
        assert console.errors == []
        context.close()


class TestApiDocs:
    def test_swagger_ui_runs_from_this_origin_only(self, server: LiveServer, browser: Browser) -> None:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page = context.new_page()
        console = ConsoleWatch(page)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        document = page.goto(f"{server.url}/docs")
        assert document is not None
        assert document.status == 200
        assert document.headers["content-security-policy"].startswith("default-src 'self'")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fillbook")
        # Try an operation: the request goes to this origin and its answer is shown.
        health = page.locator(".opblock-summary-path[data-path='/api/health']")
        health.click()
        block = page.locator(".opblock", has=health)
        block.get_by_role("button", name="Try it out").click()
        block.get_by_role("button", name="Execute").click()
        expect(block.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
        page.wait_for_load_state("networkidle")
        shot(page, "18-api-docs")
        assert page.evaluate("window.__violations") == []
        assert console.errors == []
        others = [url for url in requested if not url.startswith((server.url, "data:"))]
        assert others == [], others
        assert f"{server.url}/docs/swagger-ui-bundle.js" in requested
        context.close()
