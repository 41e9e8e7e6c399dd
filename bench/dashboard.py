"""Every dashboard page with a 20,000-round-trip run: time to data in a real browser.

    .venv/bin/python bench/dashboard.py [--trips 20000] [--rounds 3] [--out FILE]

A backend process (tests/live_server.py, SQLite) gets the run of
tests/frontend/big_run.py (one round trip per 5-minute bar, pushed in batches of
10,000, the last waiting for derivation) and a small run to compare it with. Debian's
Chromium (Playwright, never a downloaded browser) then walks the pages as a user would,
`--rounds` times: dashboard, runs, run detail, trade detail, trades, compare,
executions, regimes. For each page:

- `data`: from the click that opens it to its data on screen,
- `settled`: to no request in flight and the main thread free (every chart drawn),
- baseline, measured in the same run: the page's main API call from Python (best of 3),
  so `settled / api` says how much the page adds to what the server takes.

Goal (issue 24): every page settled in <= 1 s. Self-checks (non-zero exit when one
fails): every page showed its data, and the run's totals on its page equal the net P&L
computed from the pushed fills. The goal itself is reported, not an exit status.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.frontend import big_run  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

GOAL_S = 1.0
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def walk(url: str, token: str, run: big_run.BigRun, rounds: int) -> dict[str, list[float]]:
    """(data, settled) seconds of each page, `rounds` walks; raises when a page shows nothing."""
    seen: dict[str, list[float]] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(f"localStorage.setItem('fillbook.token', {token!r})")
        context.add_init_script(big_run.CLOCKS)
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=60_000)
        for _ in range(rounds):
            for step in big_run.steps(run):
                data, settled = big_run.time_to_data(page, step, timeout_ms=120_000)
                seen.setdefault(f"{step.name}:data", []).append(data)
                seen.setdefault(f"{step.name}:settled", []).append(settled)
        # Self-check: the run's totals are the whole run's, to the cent.
        page.goto(f"{url}/runs/{run.run_id}")
        net = float(run.net_pnl)
        expected = f"{'-' if net < 0 else ''}${abs(net):,.2f}"
        totals = page.get_by_test_id("trade-totals")
        expect(totals.locator("[data-total=net_pnl]")).to_contain_text(expected, timeout=120_000)
        expect(totals.locator("[data-total=trades]")).to_contain_text(f"{run.trips:,}")
        browser.close()
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--trips", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args(argv)
    run = big_run.build(args.trips)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder, LiveServer(Path(folder)) as server:
        account = server.create_account("bench")
        started = time.perf_counter()
        big_run.push(server.url, account.ingest_headers, run)
        pushed = time.perf_counter() - started
        steps = big_run.steps(run)
        apis = {s.name: big_run.api_time(server.url, account.headers, s.api) for s in steps}
        try:
            seen = walk(server.url, account.token, run, args.rounds)
        except (AssertionError, PlaywrightError) as exc:
            failures.append(f"walk: {str(exc).splitlines()[0]}")
            seen = {}
    print(f"{args.trips:,} round trips pushed and derived in {pushed:.1f} s; "
          f"{args.rounds} walks, medians")  # fmt: skip
    header = ("page", "data s", "settled s", "api s", "settled/api", "goal")
    print(f"{header[0]:<14} " + " ".join(f"{h:>11}" for h in header[1:]))
    rows: dict[str, dict[str, Any]] = {}
    for name, api in apis.items():
        if f"{name}:data" not in seen:
            continue
        data = statistics.median(seen[f"{name}:data"])
        settled = statistics.median(seen[f"{name}:settled"])
        met = settled <= GOAL_S
        rows[name] = {"data_s": data, "settled_s": settled, "api_s": api, "goal_met": met}
        print(f"{name:<14} {data:11.3f} {settled:11.3f} {api:11.3f} {settled / api:11.1f} "
              f"{'met' if met else 'NOT met':>11}")  # fmt: skip
    missed = [name for name, row in rows.items() if not row["goal_met"]]
    verdict = "met" if rows and not missed else f"NOT met ({', '.join(missed) or 'no figures'})"
    print(f"goal every page settled <= {GOAL_S:.0f} s: {verdict}")
    if args.out:
        args.out.write_text(json.dumps({"trips": args.trips, "pages": rows}, indent=2))
    for failure in failures:
        print(f"self-check failed: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
