"""Load: concurrent Python exporters push while the dashboard is read; nothing may fail.

    .venv/bin/python bench/load.py [--exporters 8] [--events 50000] [--postgres [--workers N]]

Starts the real backend (`run_server.py`) on a fresh SQLite database (or a
throwaway PostgreSQL server) and measures, in the same run:

1. baseline: each dashboard endpoint read alone on the idle server, then one
   exporter process pushing `--events` events alone;
2. load: `--exporters` exporter processes (the `fillbook_exporter` SDK, each its
   own spool, source and symbol) push `--events` events each while two reader
   threads loop over the dashboard endpoints.

It reports events/s and per-endpoint p50/p99 latency, each as a ratio to its
baseline, and exits 1 unless every exporter delivered everything with no
refusal, every read answered 200, the database holds exactly the events sent,
and the server never logged "database is locked".
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_server import LiveServer  # noqa: E402

T0 = 1_704_189_600_000_000_000
BAR_EVERY = 10  # one 1-minute bar per this many events
ENDPOINTS = (
    "/api/runs?limit=50",
    "/api/trades?limit=50",
    "/api/runs/{run}/trades?limit=100",
    "/api/runs/{run}/executions?limit=200",
    "/api/runs/{run}/metrics",
    "/api/runs/{run}/series",
    "/api/bars?symbol=S0&timeframe=5m",
    "/api/portfolio",
    "/api/instruments",
)


def exporter_process(
    url: str, api_key: str, number: int, events: int, spool: str
) -> dict[str, Any]:
    """One exporter: round-trip fills and bars on its own symbol, then wait for delivery."""
    from fillbook_exporter import Exporter

    symbol = f"S{number}"
    run = {"key": f"load-{number}", "strategy": "Load", "mode": "paper", "instance": symbol}
    started = time.perf_counter()
    with Exporter(
        url,
        api_key,
        f"load-{number}",
        run,
        spool_path=spool,
        batch_size=2000,
        max_batch_age=0.2,
        backoff_base=0.2,
        backoff_cap=2.0,
    ) as exporter:
        sent = 0
        while sent < events:
            with exporter.group():
                for _ in range(min(1000, events - sent)):
                    ts = T0 + sent * 1_000_000_000
                    if sent % BAR_EVERY == 0:
                        price = 100.0 + (sent // BAR_EVERY) % 17
                        exporter.bar(
                            symbol,
                            "1m",
                            T0 + (sent // BAR_EVERY) * 60_000_000_000,
                            price,
                            price + 1,
                            price - 1,
                            price + 0.5,
                            volume=10,
                        )
                    else:
                        side: Literal["buy", "sell"] = "buy" if sent % 2 else "sell"
                        exporter.execution(ts, symbol, side, 1, 100.0 + sent % 13, id=f"x{sent}")
                    sent += 1
        exporter.flush(timeout=1800)
        stats = dict(exporter.stats)
        error = exporter.error
        pending = exporter.pending()
    return {
        "seconds": time.perf_counter() - started,
        "stats": stats,
        "pending": pending,
        "error": None if error is None else str(error),
    }


def push(
    server: LiveServer, api_key: str, numbers: range, events: int, spool_dir: Path
) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(numbers)) as pool:
        results = pool.starmap(
            exporter_process,
            [(server.url, api_key, n, events, str(spool_dir / f"spool-{n}.db")) for n in numbers],
        )
    return time.perf_counter() - started, results


class Reader:
    """Loops over the dashboard endpoints, recording each one's latencies and failures."""

    def __init__(self, server: LiveServer, headers: dict[str, str], run_id: int) -> None:
        self.server, self.headers, self.run_id = server, headers, run_id
        self.latencies: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
        self.failures: list[str] = []
        self._stop = threading.Event()

    def sweep(self, http: httpx.Client) -> None:
        for endpoint in ENDPOINTS:
            started = time.perf_counter()
            response = http.get(endpoint.format(run=self.run_id))
            self.latencies[endpoint].append(time.perf_counter() - started)
            if response.status_code != 200:
                self.failures.append(f"{endpoint}: {response.status_code} {response.text[:200]}")

    def run(self, rounds: int | None = None) -> None:
        with httpx.Client(base_url=self.server.url, headers=self.headers, timeout=120) as http:
            done = 0
            while not self._stop.is_set() and (rounds is None or done < rounds):
                self.sweep(http)
                done += 1

    def stop(self) -> None:
        self._stop.set()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@contextlib.contextmanager
def database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    if not args.postgres:
        yield f"sqlite:///{workdir / 'fillbook.db'}"
        return
    import psycopg

    from tests.postgres_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("--postgres needs PostgreSQL's server binaries (Debian: postgresql)")
    server = PostgresServer(bindir)
    server.start()
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE load")
        yield server.database_url("load")
    finally:
        server.stop()


def stored_events(server: LiveServer, headers: dict[str, str]) -> tuple[int, int]:
    """(executions, market bars) the service holds for the user."""
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as http:
        runs = http.get("/api/runs", params={"limit": 500}).json()["items"]
        fills = sum(run["execution_count"] for run in runs)
        bars = 0
        for number in range(len(runs)):
            page = http.get(
                "/api/bars", params={"symbol": f"S{number}", "timeframe": "1m", "limit": 50_000}
            ).json()
            bars += len(page["bars"] if "bars" in page else page.get("items", []))
    return fills, bars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--exporters", type=int, default=8)
    parser.add_argument("--events", type=int, default=50_000, help="events per exporter")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="2 exporters x 500 events")
    args = parser.parse_args(argv)
    if args.smoke:
        args.exporters, args.events = 2, 500
    with (
        tempfile.TemporaryDirectory(prefix="fillbook-load-") as tmp,
        database(args, Path(tmp)) as url,
    ):
        workdir = Path(tmp)
        server = LiveServer(
            workdir / "server", database_url=url, args=("--workers", str(args.workers))
        )
        server.start(timeout=180)
        try:
            return measure(args, server, workdir)
        finally:
            server.stop(timeout=60)


def measure(args: argparse.Namespace, server: LiveServer, workdir: Path) -> int:
    account = server.create_account("load")
    # Baseline: one exporter alone (also the data the idle reads look at).
    base_seconds, base_results = push(server, account.api_key, range(1), args.events, workdir)
    (run,) = httpx.get(f"{server.url}/api/runs", headers=account.headers, timeout=60).json()[
        "items"
    ]
    idle = Reader(server, account.headers, run["id"])
    idle.run(rounds=20)
    # Load: the other exporters at once, while two readers loop.
    readers = [Reader(server, account.headers, run["id"]) for _ in range(2)]
    threads = [threading.Thread(target=r.run) for r in readers]
    for thread in threads:
        thread.start()
    load_seconds, load_results = push(
        server, account.api_key, range(1, args.exporters + 1), args.events, workdir
    )
    for reader in readers:
        reader.stop()
    for thread in threads:
        thread.join()

    results = base_results + load_results
    fills, bars = stored_events(server, account.headers)
    per_exporter_bars = len(range(0, args.events, BAR_EVERY))
    expected = (len(results) * (args.events - per_exporter_bars), len(results) * per_exporter_bars)
    problems = [
        f"exporter {n}: {r['error'] or 'pending ' + str(r['pending'])}"
        for n, r in enumerate(results)
        if r["error"] or r["pending"]
    ]
    problems += [
        f"exporter {n}: {r['stats'].get('rejected')} rejected"
        for n, r in enumerate(results)
        if r["stats"].get("rejected")
    ]
    problems += idle.failures + [f for r in readers for f in r.failures]
    if (fills, bars) != expected:
        problems.append(f"stored (fills, bars) {(fills, bars)} != sent {expected}")
    if "database is locked" in server.log():
        problems.append('the server logged "database is locked"')

    base_rate = args.events / base_seconds
    load_rate = args.exporters * args.events / load_seconds
    database_name = f"PostgreSQL, {args.workers} worker(s)" if args.postgres else "SQLite"
    print(
        f"\nFillbook load: {args.exporters} exporters x {args.events} events ({database_name}); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'phase':<28}{'events':>9}{'wall s':>8}{'events/s':>10}{'ratio':>7}")
    print(
        f"{'1 exporter alone':<28}{args.events:>9}{base_seconds:>8.1f}{base_rate:>10.0f}{1:>7.2f}"
    )
    print(
        f"{f'{args.exporters} exporters + 2 readers':<28}{args.exporters * args.events:>9}"
        f"{load_seconds:>8.1f}{load_rate:>10.0f}{load_rate / base_rate:>7.2f}"
    )
    print(
        f"\n{'endpoint (reads while loaded)':<40}{'n':>5}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'idle p99':>9}{'ratio':>7}"
    )
    for endpoint in ENDPOINTS:
        loaded = [v for r in readers for v in r.latencies[endpoint]]
        idle_p99 = pct(idle.latencies[endpoint], 0.99)
        p99 = pct(loaded, 0.99)
        print(
            f"{endpoint:<40}{len(loaded):>5}{pct(loaded, 0.5):>8.1f}{p99:>8.1f}"
            f"{idle_p99:>9.1f}{p99 / idle_p99:>7.1f}"
        )
    reads = sum(len(v) for r in readers for v in r.latencies.values())
    print(
        f"\nreads while loaded: {reads}, failed: {len([f for r in readers for f in r.failures])}; "
        f"stored fills {fills}, bars {bars} (sent {expected[0]}, {expected[1]}); "
        f"retries {sum(r['stats'].get('retries', 0) for r in results)}"
    )
    for problem in problems[:20]:
        print(f"FAILED: {problem}")
    if problems:  # the server's own account of what went wrong
        errors = [line for line in server.log().splitlines() if "ERROR" in line or "Error" in line]
        print("\n".join(["server log errors:", *errors[:40]]))
    median = statistics.median(r["seconds"] for r in load_results)
    print(f"median exporter seconds under load: {median:.1f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
