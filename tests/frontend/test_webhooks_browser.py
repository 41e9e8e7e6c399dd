"""Settings → Webhooks in Debian's Chromium, against a real backend process and a real
receiver on loopback (WEBHOOK_ALLOW_PRIVATE=1): add an endpoint, the secret is shown once,
a test event arrives signed with it and shows as delivered in the log. Screenshots in
tests/artifacts/."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.frontend.browser import CHROMIUM, DIST, FLAGS, TIMEOUT_MS, ConsoleWatch
from tests.live_server import PROJECT_ROOT, LiveServer
from tests.webhooks.receiver import Receiver

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(not DIST.exists(), reason="frontend/dist is not built (make test builds it)"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_POLL_SECONDS": "0.1"}
    live = LiveServer(tmp_path / "backend", env=env)
    live.start(timeout=120)  # a shared, loaded machine can take longer than the default 30 s
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


def test_add_a_webhook_see_its_secret_once_and_a_test_event_in_the_log(
    server: LiveServer, browser: Browser
) -> None:
    server.create_account("alice")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = ConsoleWatch(page)
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"{server.url}/settings")
    section = page.get_by_test_id("webhooks")
    expect(section).to_contain_text("No webhooks yet.")

    with Receiver() as receiver:
        # a private address is refused unless the admin allows it: here it is allowed
        section.locator("input[name=webhook-url]").fill(receiver.url)
        section.locator("input[name='event-training.finished']").check()
        section.get_by_role("button", name="Add webhook").click()
        box = section.get_by_test_id("webhook-secret-box")
        expect(box).to_contain_text("it will not be shown again")
        secret = section.get_by_test_id("webhook-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        assert len(secret) == 49
        row = section.get_by_test_id("webhook-endpoints").locator("tr", has_text=receiver.url)
        expect(row).to_contain_text("run.ended, training.finished")
        expect(row).to_contain_text(secret[:10] + "…")
        expect(row.get_by_test_id("webhook-state")).to_have_text("enabled")
        page.screenshot(path=str(ARTIFACTS / "webhooks-01-created.png"), full_page=True)

        section.get_by_role("button", name="Done").click()
        expect(box).to_be_hidden()
        page.reload()
        assert secret not in page.content()  # never shown again

        section = page.get_by_test_id("webhooks")
        row = section.get_by_test_id("webhook-endpoints").locator("tr", has_text=receiver.url)
        row.get_by_role("button", name="Send test event").click()
        (got,) = receiver.wait_for(1)
        stamp = got.headers["Fillbook-Webhook-Timestamp"]
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + got.body,
                          hashlib.sha256).hexdigest()  # fmt: skip
        assert got.headers["Fillbook-Webhook-Signature"] == f"v1={digest}"
        assert orjson.loads(got.body)["type"] == "webhook.test"

        log = section.get_by_test_id("webhook-log")
        delivered = log.get_by_test_id("webhook-deliveries").locator("tr", has_text="webhook.test")
        for _ in range(50):  # the sender records the outcome just after the receiver answers
            log.get_by_role("button", name="Refresh").click()
            if "succeeded" in delivered.inner_text(timeout=TIMEOUT_MS):
                break
            page.wait_for_timeout(100)
        expect(delivered).to_contain_text("succeeded")
        expect(delivered).to_contain_text("200")
        page.screenshot(path=str(ARTIFACTS / "webhooks-02-log.png"), full_page=True)
    assert console.errors == []
    context.close()
