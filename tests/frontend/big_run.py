"""A 20,000-round-trip run and a walk of every dashboard page over it.

Shared by the browser test (tests/frontend/test_big_run.py: every page shows its data,
Back takes one press, screenshots) and the benchmark (bench/dashboard.py: time to data
of each page against the API call behind it, measured in the same run).

The run: 5-minute bars of a random walk, one round trip per bar (enter 10 s in, leave
4 minutes later, long and short by turns), pushed in batches of 10,000 events; the last
batch waits for derivation (`?wait=derived`). A second, small run repeats the first
`COMPARED` trades 0.25 worse, so Compare has trades to match.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import orjson
from playwright.sync_api import Page

SYMBOL = "SYNBIG"
MULTIPLIER = 5
COMMISSION = Decimal("0.37")
START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)
BAR = dt.timedelta(minutes=5)
COMPARED = 200
BATCH = 10_000


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class BigRun:
    """What was pushed, and what the pages should show of it."""

    trips: int
    run_id: int = 0
    compare_id: int = 0
    net_pnl: Decimal = Decimal(0)  # the big run's, computed here from the fills
    wins: int = 0
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)


def build(trips: int = 20_000, seed: int = 24) -> BigRun:
    """The events of the big run, and its net P&L computed independently of the service."""
    rng = random.Random(seed)
    price = Decimal("4700.00")
    run = BigRun(trips=trips)
    events: list[dict[str, Any]] = [
        {"type": "instrument", "symbol": SYMBOL, "multiplier": MULTIPLIER, "tick_size": 0.25}
    ]
    for n in range(trips):
        opened = START + n * BAR
        path = [price + Decimal(rng.randint(-8, 8)) / 4 for _ in range(4)]
        close = path[-1]
        events.append({
            "type": "bar", "symbol": SYMBOL, "timeframe": "5m", "ts": _iso(opened),
            "open": float(price), "high": float(max(price, *path)), "low": float(min(price, *path)),
            "close": float(close), "volume": rng.randint(100, 900),
        })  # fmt: skip
        entry, exit_ = path[0], path[2]
        side, back = ("buy", "sell") if n % 2 == 0 else ("sell", "buy")
        events += [
            _fill(f"e{n}", opened + dt.timedelta(seconds=10), side, entry),
            _fill(f"x{n}", opened + dt.timedelta(minutes=4), back, exit_),
        ]
        sign = 1 if side == "buy" else -1
        net = (exit_ - entry) * sign * MULTIPLIER - 2 * COMMISSION
        run.net_pnl += net
        run.wins += net > 0
        price = close
    run.events = events
    return run


def _fill(exec_id: str, moment: dt.datetime, side: str, price: Decimal) -> dict[str, Any]:
    return {"type": "execution", "id": exec_id, "ts": _iso(moment), "symbol": SYMBOL,
            "side": side, "qty": 1, "price": float(price), "commission": float(COMMISSION)}  # fmt: skip


def _batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(events), BATCH):
        yield events[start : start + BATCH]


def push(url: str, headers: dict[str, str], run: BigRun) -> None:
    """Both runs through the real API; returns once every position is derived."""
    with httpx.Client(base_url=url, headers=headers, timeout=120.0, trust_env=False) as http:
        # The instrument first: stored before any trade of its symbol exists (a multiplier
        # arriving after trades would re-price them, which ingest refuses: docs/ingest.md).
        compared = [run.events[0]] + [
            {
                **e,
                "id": f"c{e['id']}",
                "price": e["price"] + (0.25 if e["side"] == "buy" else -0.25),
            }
            for e in run.events[: 1 + 3 * COMPARED]
            if e["type"] == "execution"
        ]
        ref = {"key": "big-compare", "strategy": "Big", "mode": "paper", "initial_capital": 25_000}
        run.compare_id = _post(http, ref, compared, wait=True)["run_id"]
        ref = {"key": "big-20k", "strategy": "Big", "mode": "live", "initial_capital": 25_000}
        batches = list(_batches(run.events))
        for number, events in enumerate(batches):
            body = _post(http, ref, events, wait=number == len(batches) - 1)
        run.run_id = body["run_id"]
        assert body["derivation"]["state"] == "derived", body["derivation"]


def _post(
    http: httpx.Client, ref: dict[str, Any], events: list[dict[str, Any]], *, wait: bool
) -> dict[str, Any]:
    response = http.post(
        "/api/ingest" + ("?wait=derived&timeout=60" if wait else ""),
        content=orjson.dumps({"source": "big-run", "run": ref, "events": events}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [], response.text[:500]
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Step:
    """One page of the walk: how to get there, what shows its data, the API call behind it."""

    name: str
    go: Callable[[Page], None]  # the click that opens the page (timed from here)
    ready: tuple[str, str | None]  # a CSS selector shown with its data, and text it holds
    api: str  # the main request the page's data comes from (the benchmark's baseline)
    prepare: Callable[[Page], None] | None = None  # untimed steps before `go`


def steps(run: BigRun) -> list[Step]:
    """Every page, reached as a user would (links and rows), in an order that flows."""

    def nav(name: str) -> Callable[[Page], None]:
        return lambda page: page.get_by_role("link", name=name, exact=True).click()

    def open_run(page: Page) -> None:
        page.get_by_test_id("runs").locator("tbody tr:has-text('big-20k')").first.click()

    def open_trade(page: Page) -> None:
        # The trade's own link in its row: one navigation (the row does not also navigate).
        page.get_by_test_id("run-trades").locator("tbody tr[tabindex='0'] a").first.click()

    def pick_two(page: Page) -> None:
        nav("Runs")(page)
        boxes = page.get_by_test_id("runs").locator("tbody tr[tabindex='0'] input[type=checkbox]")
        boxes.nth(0).check()
        boxes.nth(1).check()

    def compare(page: Page) -> None:
        page.get_by_role("button", name="Compare").click()

    rows = "tbody tr[tabindex='0']"
    chart = "[data-testid=candle-chart]:not([data-bars='0'])"
    return [
        Step("dashboard", nav("Dashboard"), (f"[data-testid=recent-trades] {rows}", None),
             "/api/trades?limit=10"),
        Step("runs", nav("Runs"), (f"[data-testid=runs] {rows}:nth-child(2)", None),
             "/api/runs?limit=100"),
        Step("run-detail", open_run,
             ("[data-testid=run-trades] tbody tr[data-index='20']", None),
             f"/api/runs/{run.run_id}/trades?limit=500&sort=-entry_ts"),
        Step("trade-detail", open_trade, (chart, None),
             f"/api/runs/{run.run_id}/trades?limit=1&sort=-entry_ts"),
        Step("trades", nav("Trades"), ("[data-testid=trades] tbody tr[data-index='20']", None),
             "/api/trades?limit=500&sort=-entry_ts"),
        Step("compare", compare, (f"[data-testid=matched] {rows}", None),
             f"/api/compare?a={run.compare_id}&b={run.run_id}", prepare=pick_two),
        Step("executions", nav("Executions"),
             (f"[data-testid=executions] {rows}:nth-child(21)", None),
             f"/api/runs/{run.run_id}/executions?limit=200"),
        Step("regimes", nav("Regimes"), (chart, None),
             f"/api/bars?symbol={SYMBOL}&timeframe=5m&limit=1500"),
    ]  # fmt: skip


# Installed in every page of the walk (context.add_init_script): the end of the last long
# task (> 50 ms of main thread: a chart drawing, a big render), and the moment of a click.
CLOCKS = """
window.__longEnd = 0;
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) {
    window.__longEnd = Math.max(window.__longEnd, task.startTime + task.duration);
  }
}).observe({ type: "longtask", buffered: true });
// Requests in flight (the dashboard fetches everything it shows) and when the last ended.
window.__inflight = 0;
window.__fetchEnd = 0;
const fetched = window.fetch.bind(window);
window.fetch = (...args) => {
  window.__inflight += 1;
  return fetched(...args).finally(() => {
    window.__inflight -= 1;
    window.__fetchEnd = performance.now();
  });
};
"""
ARM = """() => {
  window.__clicked = null;
  document.addEventListener("click", () => { window.__clicked = performance.now(); },
                            { capture: true, once: true });
}"""
# Checked on every animation frame: the moment the page's data is on screen.
READY = """([selector, text]) => {
  const element = document.querySelector(selector);
  const shown = !!element && element.getClientRects().length > 0
    && (!text || element.textContent.includes(text));
  if (shown) window.__ready = performance.now() - window.__clicked;
  return shown;
}"""
# Settled: the last of the page's requests answered and the last long task over.
SETTLED = "() => Math.max(window.__longEnd, window.__fetchEnd) - window.__clicked"
# No request in flight for 300 ms (a page that chains requests is not yet settled).
QUIET = "() => window.__inflight === 0 && performance.now() - window.__fetchEnd > 300"
IDLE = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))"


def settle(page: Page, timeout_ms: float = 60_000) -> None:
    """No request in flight and the main thread free (charts drawn). Not Playwright's
    "networkidle": that fires once a document, so it says nothing after a click."""
    page.wait_for_function(QUIET, polling=50, timeout=timeout_ms)
    page.evaluate(IDLE)


def time_to_data(page: Page, step: Step, timeout_ms: float = 60_000) -> tuple[float, float]:
    """Seconds from the click that opens the page to its data on screen, and to the page
    settled (its requests answered and the main thread's last long task over: every
    chart drawn), both by the page's own clock (performance.now()), so the test driver's
    polling does not count. The previous page is settled first; the page's context
    needs CLOCKS installed."""
    settle(page)
    if step.prepare:
        step.prepare(page)
        settle(page)
    page.evaluate(ARM)
    step.go(page)
    page.wait_for_function(READY, arg=list(step.ready), polling="raf", timeout=timeout_ms)
    data_ms = float(page.evaluate("() => window.__ready"))
    settle(page, timeout_ms)
    settled_ms = max(data_ms, float(page.evaluate(SETTLED)))
    return data_ms / 1000, settled_ms / 1000


def api_time(url: str, headers: dict[str, str], path: str, repeat: int = 3) -> float:
    """The best of `repeat` calls of the page's main request (seconds)."""
    best = float("inf")
    with httpx.Client(base_url=url, headers=headers, timeout=60.0, trust_env=False) as http:
        for _ in range(repeat):
            started = time.perf_counter()
            response = http.get(path)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (path, response.text[:300])
            best = min(best, elapsed)
    return best
