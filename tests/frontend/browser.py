"""What every browser test shares: Debian's Chromium, its flags and time-out, the marks
that skip without it or without a built dashboard, the console watch and the 1440/390 px
screenshots. The fixtures built on these (`browser`, `server`) are in conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.live_server import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DIST = PROJECT_ROOT / "frontend" / "dist" / "index.html"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

BROWSER_MARKS = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not DIST.exists(), reason="frontend/dist is not built (make test builds it)"
    ),
]


class ConsoleWatch:
    """Collects console errors and uncaught exceptions of a page."""

    def __init__(self, page: Page, allowed: tuple[str, ...] = ()) -> None:
        self.errors: list[str] = []
        self.allowed = allowed
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        entry = f"{message.text} ({message.location.get('url')})"
        if message.type == "error" and not any(a in entry for a in self.allowed):
            self.errors.append(entry)


def phone_shots(page: Page, name: str) -> None:
    """The page at 1440 px and at 390 px (a phone), then back to 1440; no sideways scroll."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(ARTIFACTS / f"{name}-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    widest = page.evaluate(WIDEST_ELEMENTS) if overflow > 1 else []
    page.set_viewport_size({"width": 1440, "height": 900})
    assert overflow <= 1, (
        f"{name}: the page is {overflow} px wider than a 390 px screen; "
        f"reaching past its right edge: {widest}"
    )


# The innermost elements whose right edge lies past the window's, to name the culprit.
WIDEST_ELEMENTS = """() => {
  const past = [...document.querySelectorAll('body *')].filter(
    (e) => e.getBoundingClientRect().right > window.innerWidth + 1);
  const innermost = past.filter((e) => !past.some((o) => o !== e && e.contains(o)));
  return innermost.slice(0, 5).map((e) => {
    const id = e.getAttribute('data-testid') || e.className || '';
    return `${e.tagName.toLowerCase()}.${String(id).slice(0, 60)} (${Math.round(e.getBoundingClientRect().right)} px)`;
  });
}"""
