"""Exporter throughput: `execution()` calls to acknowledged, against the backend's own ingest rate.

    .venv/bin/python bench/exporter.py [--events 20000] [--batch 1000] [--repeats 9] [--fmt json]

Starts the real backend (`run_server.py` via tests/live_server.py) on a fresh
SQLite database and measures, alternately, `--repeats` times each:

- raw: the backend's own rate. The same fills, prebuilt and encoded before the
  clock starts, POSTed as `--batch`-event batches one after another on one
  keep-alive connection (the exporter's sender also uses one), each response
  checked (`accepted` = batch size);
- exporter: an `Exporter` (spool in the temporary directory, `batch_size=--batch`)
  fed one `execution()` call per fill, each call committed to the spool before
  it returns; the clock stops when `flush()` returns, i.e. when the service has
  acknowledged every fill;
- exporter, grouped: the same inside `with exporter.group():` (one spool
  transaction per 5,000 calls), the path adapters and the CSV import take.

Every phase uses its own source, so nothing is a duplicate, and waits for the
backend's trade derivation of the phase before to finish. The ratio is the
exporter's events/s over the events/s of the raw phase of the same repeat (median
over repeats: the machine's speed drifts, so many short repeats in alternating
order pair each exporter phase with a raw phase measured seconds apart);
goal: >= 0.8. The CPU
columns are per event: `client` this process (for the exporter phases the
caller's calls plus the sender thread), `server` the backend process.
Exits 1 if any batch was refused or a count does not match.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgpack
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fillbook_exporter import Exporter  # noqa: E402

from tests.exporters.python.helpers import wait_derived  # noqa: E402
from tests.live_server import Account, LiveServer  # noqa: E402

BASE_NS = 1_702_650_600_000_000_000
SYMBOLS = (("MESZ3", 4700.0), ("MNQZ3", 16_000.0), ("M2KZ3", 1900.0), ("MYMZ3", 37_000.0))
RUN = {"key": "bench", "strategy": "Exporter bench", "mode": "backtest"}


def fills(tag: str, count: int) -> list[dict[str, Any]]:
    """Round trips (buy then sell) over four futures, 1 ms apart, ids unique per `tag`."""
    events = []
    for n in range(count):
        pair = n // 2
        symbol, base = SYMBOLS[pair % len(SYMBOLS)]
        events.append({
            "id": f"x-{tag}-{n:09d}", "ts": BASE_NS + n * 1_000_000, "symbol": symbol,
            "side": "buy" if n % 2 == 0 else "sell", "qty": 1 + pair % 3,
            "price": base + (pair * 7919 % 401) * 0.25, "commission": 0.37,
        })
    return events


@dataclass
class Phase:
    """One timed phase: events/s and CPU µs per event of this process and of the server."""

    rate: float
    client_us: float
    server_us: float


def server_cpu_s(server: LiveServer) -> float:
    """User + system CPU seconds of the backend process (Linux /proc, which this bench needs)."""
    seconds = server.cpu_seconds()
    if seconds is None:
        raise SystemExit(f"cannot read /proc/{server.pid}/stat: this bench needs Linux")
    return seconds


@contextlib.contextmanager
def timed(server: LiveServer, events: int, out: list[Phase]) -> Iterator[None]:
    wall, cpu, server_cpu = time.perf_counter(), time.process_time(), server_cpu_s(server)
    yield
    elapsed = time.perf_counter() - wall
    out.append(Phase(events / elapsed, (time.process_time() - cpu) / events * 1e6,
                     (server_cpu_s(server) - server_cpu) / events * 1e6))


def raw_phase(
    server: LiveServer, account: Account, tag: str, args: argparse.Namespace,
    out: list[Phase],
) -> None:
    """Events/s of prebuilt batches POSTed back to back on one connection."""
    events = [{"type": "execution", **event} for event in fills(tag, args.events)]
    encode: Callable[[Any], bytes] = orjson.dumps if args.fmt == "json" else msgpack.packb
    bodies = [
        encode({"source": f"raw-{tag}", "run": RUN, "events": events[i : i + args.batch]})
        for i in range(0, len(events), args.batch)
    ]
    content_type = "application/json" if args.fmt == "json" else "application/msgpack"
    headers = {**account.ingest_headers, "Content-Type": content_type}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60.0) as http, timed(
        server, int(args.events), out
    ):
        for body in bodies:
            response = http.post("/api/ingest", content=body)
            result = response.json()
            if response.status_code != 200 or result["accepted"] != min(
                args.batch, args.events
            ):
                raise SystemExit(f"raw batch refused: {response.status_code} {result}")


def exporter_phase(
    server: LiveServer, account: Account, tag: str, args: argparse.Namespace,
    workdir: Path, out: list[Phase], *, grouped: bool,
) -> None:
    """Events/s from the first `execution()` call to `flush()` returning."""
    events = fills(tag, args.events)
    exporter = Exporter(server.url, account.api_key, f"exp-{tag}", RUN,
                        spool_path=workdir / f"{tag}.spool", fmt=args.fmt,
                        batch_size=args.batch, max_batch_age=0.05)
    try:
        with timed(server, len(events), out):
            if grouped:
                for start in range(0, len(events), 5000):
                    with exporter.group():
                        for event in events[start : start + 5000]:
                            exporter.execution(**event)
            else:
                for event in events:
                    exporter.execution(**event)
            exporter.flush(timeout=300)
        stats = exporter.stats
    finally:
        exporter.close(timeout=5)
    if stats["accepted"] != args.events or stats["rejected"] or stats["retries"]:
        raise SystemExit(f"exporter phase {tag}: unexpected counts {stats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--fmt", choices=("json", "msgpack"), default="json")
    parser.add_argument("--smoke", action="store_true", help="2,000 fills, one repeat")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.repeats = 2_000, 1
    results: dict[str, list[Phase]] = {"raw": [], "exporter": [], "exporter, grouped": []}
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp) / "backend") as server:
        account = server.create_account("bench")
        warm_up = argparse.Namespace(**{**vars(args), "events": min(5000, args.events)})
        raw_phase(server, account, "warm-up", warm_up, [])
        for repeat in range(args.repeats):
            # Alternate the order, so that neither path always follows the other's backlog.
            for name in list(results) if repeat % 2 == 0 else list(results)[::-1]:
                wait_derived(server, timeout=600)
                tag = f"{name[:3]}{'-g' if 'grouped' in name else ''}{repeat}"
                if name == "raw":
                    raw_phase(server, account, tag, args, results[name])
                else:
                    exporter_phase(server, account, tag, args, Path(tmp), results[name],
                                   grouped="grouped" in name)
                phase = results[name][-1]
                print(f"  {name:<18} run {repeat + 1}: {phase.rate:>9,.0f} events/s", flush=True)
    print(f"\n{args.events:,} fills, {args.batch}-event batches, {args.fmt}, "
          f"median of {args.repeats}")
    print(f"{'path':<20}{'events/s':>10}{'ratio to raw':>14}{'client µs/ev':>14}"
          f"{'server µs/ev':>14}")
    for name, phases in results.items():
        rate = statistics.median(p.rate for p in phases)
        paired = statistics.median(
            p.rate / r.rate for p, r in zip(phases, results["raw"], strict=True)
        )
        client = statistics.median(p.client_us for p in phases)
        server_us = statistics.median(p.server_us for p in phases)
        print(f"{name:<20}{rate:>10,.0f}{paired:>14.2f}{client:>14.1f}{server_us:>14.1f}")


if __name__ == "__main__":
    main()
