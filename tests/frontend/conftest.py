"""Fixtures of the browser tests: Debian's Chromium through Playwright (one per module)
and a backend process of the test's own (a module may override `server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.frontend.browser import ARTIFACTS, CHROMIUM, FLAGS
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path / "backend") as live:
        yield live
