"""Live-update latency: from an ingest response to the update on a WebSocket client.

    .venv/bin/python bench/stream.py [--batches 200] [--events 20]

A backend process (tests/live_server.py) over SQLite; one client keeps /api/stream
open, the way an open dashboard does, while another pushes small batches of fills
(new round trips each time, so every batch re-derives trades) one at a time. For each
batch it measures, from the moment the ingest response is read:

- `ingested`: the batch's own notification (fills on the page),
- `position_derived`: the trades rebuilt from it (trade rows, metrics on the page).

A message that arrives before the response counts as 0 ms. Baseline in the same
run: a plain HTTP round trip (`GET /api/health`) on the same connection, so the
figures read as "how many HTTP round trips an update takes". Goal: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live_server import LiveServer  # noqa: E402

GOAL_P99_MS = 100.0
UPDATES = ("ingested", "position_derived")
RUN = {"key": "stream-bench", "strategy": "bench", "mode": "live"}
START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def fills(batch: int, events: int) -> list[dict[str, Any]]:
    """`events` fills making round trips of 2 fills, later in time than every earlier batch."""
    base = START + dt.timedelta(minutes=batch * events)
    out = []
    for i in range(events):
        side = "buy" if i % 2 == 0 else "sell"
        ts = (base + dt.timedelta(seconds=30 * i)).isoformat().replace("+00:00", "Z")
        out.append({"type": "execution", "id": f"b{batch}-{i}", "ts": ts, "symbol": "ESH4",
                    "side": side, "qty": 1, "price": 4800.0 + (i % 7) * 0.25})  # fmt: skip
    return out


async def measure(
    url: str, token: str, key: str, batches: int, events: int
) -> dict[str, list[float]]:
    """One batch in flight at a time, so the first message of each kind after a POST is its."""
    results: dict[str, list[float]] = {name: [] for name in ("http", *UPDATES)}
    ws_url = url.replace("http://", "ws://") + f"/api/stream?token={token}"
    queues: dict[str, asyncio.Queue[float]] = {name: asyncio.Queue() for name in UPDATES}

    async with websockets.connect(ws_url, ping_interval=None, max_queue=None) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"

        async def reader() -> None:
            async for raw in socket:
                kind = json.loads(raw)["type"]
                if kind in queues:
                    queues[kind].put_nowait(time.perf_counter())

        task = asyncio.create_task(reader())
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for _ in range(20):  # warm-up: the connection, the first requests
                await http.get("/api/health")
            for batch in range(batches):
                started = time.perf_counter()
                await http.get("/api/health")
                results["http"].append((time.perf_counter() - started) * 1000)

                body = {"source": "bench", "run": RUN, "events": fills(batch, events)}
                response = await http.post("/api/ingest", json=body, headers=auth)
                responded = time.perf_counter()
                assert response.status_code == 200, response.text
                for name in UPDATES:
                    arrived = await asyncio.wait_for(queues[name].get(), 10)
                    results[name].append(max(arrived - responded, 0.0) * 1000)
                await asyncio.sleep(0.02)  # the next batch finds the derivation runner idle
        task.cancel()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="20 batches, every check")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batches = 20
    with tempfile.TemporaryDirectory() as folder, LiveServer(Path(folder)) as server:
        account = server.create_account("bench")
        results = asyncio.run(
            measure(server.url, account.token, account.api_key, args.batches, args.events)
        )
    base_p50 = statistics.median(results["http"])
    base_p99 = percentile(results["http"], 99)
    print(f"{args.batches} batches of ~{args.events} fills, one at a time; "
          f"baseline GET /api/health p50 {base_p50:.2f} ms, p99 {base_p99:.2f} ms")  # fmt: skip
    header = ("update", "p50 ms", "p99 ms", "max ms", "p50/base", "p99/base")
    print(f"{header[0]:<18} " + " ".join(f"{h:>9}" for h in header[1:]))
    for name in UPDATES:
        values = results[name]
        p50, p99 = statistics.median(values), percentile(values, 99)
        row = (p50, p99, max(values), p50 / base_p50, p99 / base_p99)
        print(f"{name:<18} " + " ".join(f"{v:9.2f}" for v in row))
    worst = percentile(results["position_derived"], 99)
    verdict = "met" if worst <= GOAL_P99_MS else "NOT met"
    print(f"goal p99 <= {GOAL_P99_MS:.0f} ms from response to trade update: {verdict}")


if __name__ == "__main__":
    main()
