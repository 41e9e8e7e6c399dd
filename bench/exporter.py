"""Exporter throughput: `execution()` calls to acknowledged, against the backend's own ingest rate.

    .venv/bin/python bench/exporter.py [--events 50000] [--batch 1000] [--repeats 3] [--fmt json]

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
exporter's events/s over the raw events/s (medians); goal: >= 0.8.
Exits 1 if any batch was refused or a count does not match.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def raw_phase(server: LiveServer, account: Account, tag: str, args: argparse.Namespace) -> float:
    """Events/s of prebuilt batches POSTed back to back on one connection."""
    events = [{"type": "execution", **event} for event in fills(tag, args.events)]
    encode: Callable[[Any], bytes] = orjson.dumps if args.fmt == "json" else msgpack.packb
    bodies = [
        encode({"source": f"raw-{tag}", "run": RUN, "events": events[i : i + args.batch]})
        for i in range(0, len(events), args.batch)
    ]
    content_type = "application/json" if args.fmt == "json" else "application/msgpack"
    headers = {**account.ingest_headers, "Content-Type": content_type}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60.0) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post("/api/ingest", content=body)
            result = response.json()
            if response.status_code != 200 or result["accepted"] != min(
                args.batch, args.events
            ):
                raise SystemExit(f"raw batch refused: {response.status_code} {result}")
        return int(args.events) / (time.perf_counter() - started)


def exporter_phase(
    server: LiveServer, account: Account, tag: str, args: argparse.Namespace,
    workdir: Path, *, grouped: bool,
) -> float:
    """Events/s from the first `execution()` call to `flush()` returning."""
    events = fills(tag, args.events)
    exporter = Exporter(server.url, account.api_key, f"exp-{tag}", RUN,
                        spool_path=workdir / f"{tag}.spool", fmt=args.fmt,
                        batch_size=args.batch, max_batch_age=0.05)
    try:
        started = time.perf_counter()
        if grouped:
            for start in range(0, len(events), 5000):
                with exporter.group():
                    for event in events[start : start + 5000]:
                        exporter.execution(**event)
        else:
            for event in events:
                exporter.execution(**event)
        exporter.flush(timeout=300)
        elapsed = time.perf_counter() - started
        stats = exporter.stats
    finally:
        exporter.close(timeout=5)
    if stats["accepted"] != args.events or stats["rejected"] or stats["retries"]:
        raise SystemExit(f"exporter phase {tag}: unexpected counts {stats}")
    return int(args.events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fmt", choices=("json", "msgpack"), default="json")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"raw": [], "exporter": [], "exporter, grouped": []}
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp) / "backend") as server:
        account = server.create_account("bench")
        raw_phase(server, account, "warm-up", argparse.Namespace(**{**vars(args), "events": 5000}))
        for repeat in range(args.repeats):
            for name in results:
                wait_derived(server, timeout=600)
                tag = f"{name[:3]}{'-g' if 'grouped' in name else ''}{repeat}"
                if name == "raw":
                    rate = raw_phase(server, account, tag, args)
                else:
                    rate = exporter_phase(server, account, tag, args, Path(tmp),
                                          grouped="grouped" in name)
                results[name].append(rate)
                print(f"  {name:<18} run {repeat + 1}: {rate:>9,.0f} events/s", flush=True)
    raw = statistics.median(results["raw"])
    print(f"\n{args.events:,} fills, {args.batch}-event batches, {args.fmt}, "
          f"median of {args.repeats}")
    print(f"{'path':<20}{'events/s':>12}{'ratio to raw':>15}")
    for name, rates in results.items():
        rate = statistics.median(rates)
        print(f"{name:<20}{rate:>12,.0f}{rate / raw:>15.2f}")


if __name__ == "__main__":
    main()
