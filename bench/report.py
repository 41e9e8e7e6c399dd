"""The run report streamed: 100,000 trades as JSON and as CSV, against raw sqlite3 + json/csv.

    .venv/bin/python bench/report.py [--trades 100000] [--repeats 3] [--smoke]

Starts the real app (`run_server.py`, Uvicorn on 127.0.0.1) on a fresh SQLite database,
creates a run by ingest (a few fills and orders, derived), then writes `--trades` more
trades straight into the trade table with stdlib sqlite3 (seeded: 10 symbols, both
directions, open trades, regimes, tags, notes that start like formulas). Then, median of
`--repeats`, for `format=json` and `format=csv`:
- time to first byte and total time of `GET /api/runs/{id}/report` over HTTP;
- the server's peak RSS during the request above its RSS before (Linux: VmHWM after
  resetting it through /proc/PID/clear_refs);
- the Python heap's peak while the same report is produced in this process
  (`tracemalloc` around the chunk generator, one run: tracemalloc slows it).
The baseline, in the same run: stdlib sqlite3 `SELECT *` of the same trade rows,
serialised with `json.dumps` (one list of dicts) or `csv.writer`. The ratio is report
time / baseline time.

Checks: every trade of the run present once in the JSON and in the CSV (ids equal to the
table's), each JSON trade's net P&L equal to the table's, the orders all there, formula
text guarded in the CSV. Goal: total <= 1 s for 100,000 trades, in both formats; with
`--smoke` (1,000 trades, one repeat) the goal is not enforced, the checks are.
Exits 1 when a check (or, without --smoke, the goal) fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.analytics.report import report  # noqa: E402
from backend.db.engine import Database  # noqa: E402
from backend.db.models import Trade  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

NS = 1_000_000_000
BASE_NS = 1_702_650_600 * NS  # 2023-12-15T14:30:00Z
FIRST_ID = 10**12  # seeded trade ids, far above the derived ones
GOAL_S = 1.0
COLUMNS = tuple(Trade.__table__.columns.keys())  # the order seed_trades writes them in


def seed_run(server: LiveServer, headers: dict[str, str]) -> int:
    """A backtest run made by ingest: two round trips and their orders, derived."""
    events: list[dict[str, Any]] = []
    for n in range(4):
        ts = BASE_NS - (10 - n) * NS
        side = "buy" if n % 2 == 0 else "sell"
        events.append({"type": "order", "id": f"o{n}:filled", "order_id": f"o{n}", "ts": ts,
                       "symbol": "S00", "side": side, "order_type": "market", "qty": 1,
                       "status": "filled"})  # fmt: skip
        events.append({"type": "execution", "id": f"x{n}", "order_id": f"o{n}", "ts": ts,
                       "symbol": "S00", "side": side, "qty": 1, "price": 100 + n,
                       "commission": 0.5})  # fmt: skip
    body = {"source": "bench", "run": {"key": "report", "strategy": "Bench", "mode": "backtest"},
            "events": events}  # fmt: skip
    response = httpx.post(f"{server.url}/api/ingest?wait=derived", json=body, headers=headers,
                          timeout=60, trust_env=False)  # fmt: skip
    response.raise_for_status()
    return int(response.json()["run_id"])


def seed_trades(database: Path, run_id: int, count: int) -> None:
    """`count` trades of the run, written straight into the table (one transaction)."""
    connection = sqlite3.connect(database, timeout=30)
    (user_id,) = connection.execute(
        "SELECT user_id FROM strategy_run WHERE id = ?", (run_id,)
    ).fetchone()
    rows = []
    for i in range(count):
        entry = BASE_NS + i * 60 * NS
        is_open = i % 997 == 0
        pnl = round(((i * 7919) % 4001 - 2000) * 0.25, 2)
        rows.append((
            FIRST_ID + i, user_id, run_id, f"SIM-{i % 3}", f"S{i % 10:02d}",
            "long" if i % 2 else "short", float(1 + i % 4), float(1 + i % 4), entry,
            None if is_open else entry + (30 + i % 600) * NS, 100.0 + (i % 50) * 0.25,
            None if is_open else 100.0 + (i % 50) * 0.25 + pnl / 4, pnl + 1.24, 1.24,
            0.0 if is_open else pnl, 1.0, abs(pnl) / 3 + 0.25, 0.5, abs(pnl) + 1, 2.0, 0.5,
            None if i % 3 else 50.0, None if i % 3 else pnl / 50,
            ("up", "down", "range")[i % 3], ("low", "normal", "high")[i % 5 % 3], int(is_open),
            "=1+1 formula" if i % 101 == 0 else (None if i % 2 else f"note {i}"),
            '["-2+3", "ok"]' if i % 7 == 0 else "[]", "ORB" if i % 5 == 0 else None,
            '{"initial_stop": 99.5}' if i % 3 == 0 else "{}", "2026-01-01 00:00:00.000000",
        ))  # fmt: skip
    with connection:
        marks = ", ".join("?" * len(COLUMNS))
        connection.executemany(f"INSERT INTO trade ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    connection.close()


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Fetch:
    first_byte_s: float
    total_s: float
    peak_mib: float | None
    body: bytes


def fetch(server: LiveServer, headers: dict[str, str], run_id: int, fmt: str) -> Fetch:
    peak_ok = reset_peak(server.pid)
    before = rss_kib(server.pid, "VmRSS")
    chunks: list[bytes] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=120, trust_env=False) as http:
        began = time.perf_counter()
        with http.stream("GET", f"/api/runs/{run_id}/report", params={"format": fmt}) as response:
            response.raise_for_status()
            first = None
            for chunk in response.iter_raw():
                if first is None:
                    first = time.perf_counter() - began
                chunks.append(chunk)
        total = time.perf_counter() - began
    peak = (rss_kib(server.pid, "VmHWM") - before) / 1024 if peak_ok else None
    return Fetch(first or total, total, peak, b"".join(chunks))


def heap_peak_mib(database: Path, user_id: int, run_id: int, fmt: str) -> float:
    """The Python heap's peak while this process produces the report (no HTTP)."""
    db = Database(f"sqlite:///{database}")
    tracemalloc.start()
    try:
        for _chunk in report(db, user_id, run_id, fmt):  # type: ignore[arg-type]
            pass
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        db.dispose()


def baseline(database: Path, run_id: int, fmt: str) -> float:
    """stdlib sqlite3 SELECT * of the run's trades, serialised with json or csv."""
    began = time.perf_counter()
    connection = sqlite3.connect(database)
    cursor = connection.execute(
        "SELECT * FROM trade WHERE run_id = ? ORDER BY entry_ts, id", (run_id,)
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if fmt == "json":
        json.dumps([dict(zip(names, row, strict=True)) for row in rows])
    else:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    connection.close()
    return time.perf_counter() - began


def check(body: bytes, fmt: str, expected: dict[int, float], orders: int) -> list[str]:
    problems: list[str] = []
    if fmt == "json":
        document = orjson.loads(body)
        trades = document["trades"]
        ids = [t["id"] for t in trades]
        wrong = [t["id"] for t in trades if abs(t["net_pnl"] - expected.get(t["id"], 1e18)) > 1e-9]
        if wrong:
            problems.append(f"json: {len(wrong)} trades with a net P&L unlike the table's")
        if len(document["orders"]) != orders:
            problems.append(f"json: {len(document['orders'])} orders, the table has {orders}")
        if document["metrics"]["trade_count"] != sum(1 for t in trades if not t["open"]):
            problems.append("json: metrics.trade_count is not the number of closed trades")
    else:
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        ids = [int(r["id"]) for r in rows]
        if any(r["notes"].startswith("=") for r in rows):
            problems.append("csv: a cell starts with '=' (the formula guard is gone)")
        if not any(r["notes"].startswith("'=") for r in rows):
            problems.append("csv: no guarded formula text (the seeded notes are missing)")
    if len(ids) != len(expected) or set(ids) != expected.keys():
        problems.append(
            f"{fmt}: {len(ids)} trades ({len(set(ids))} distinct), the table has {len(expected)}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1,000 trades, one repeat, no goal")
    args = parser.parse_args(argv)
    if args.smoke:
        args.trades, args.repeats = 1_000, 1
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fillbook-report-") as tmp:
        server = LiveServer(Path(tmp) / "server")
        database = Path(tmp) / "server" / "fillbook.db"
        server.start(timeout=120)
        try:
            account = server.create_account("report")
            run_id = seed_run(server, account.headers)
            began = time.perf_counter()
            seed_trades(database, run_id, args.trades)
            seeded = time.perf_counter() - began
            with sqlite3.connect(database) as connection:
                expected = dict(
                    connection.execute(
                        "SELECT id, net_pnl FROM trade WHERE run_id = ?", (run_id,)
                    ).fetchall()
                )
                (orders,) = connection.execute(
                    'SELECT COUNT(*) FROM "order" WHERE run_id = ?', (run_id,)
                ).fetchone()
                (user_id,) = connection.execute(
                    "SELECT user_id FROM strategy_run WHERE id = ?", (run_id,)
                ).fetchone()
            print(f"Fillbook report: {len(expected):,} trades, {orders} orders "
                  f"(seeded in {seeded:.1f} s); SQLite, median of {args.repeats}")  # fmt: skip
            print(f"{'format':<7}{'first byte ms':>14}{'total ms':>10}{'MB':>7}"
                  f"{'server peak MiB':>16}{'heap peak MiB':>14}{'baseline ms':>12}"
                  f"{'ratio':>7}")  # fmt: skip
            for fmt in ("json", "csv"):
                fetches = [fetch(server, account.headers, run_id, fmt) for _ in range(args.repeats)]
                problems += check(fetches[-1].body, fmt, expected, orders)
                base = statistics.median(
                    baseline(database, run_id, fmt) for _ in range(args.repeats)
                )
                heap = heap_peak_mib(database, user_id, run_id, fmt)
                first = statistics.median(f.first_byte_s for f in fetches)
                total = statistics.median(f.total_s for f in fetches)
                peaks = [f.peak_mib for f in fetches if f.peak_mib is not None]
                peak = f"{max(peaks):.1f}" if peaks else "n/a"
                size = len(fetches[-1].body) / 1e6
                print(f"{fmt:<7}{first * 1e3:>14.1f}{total * 1e3:>10.1f}{size:>7.1f}{peak:>16}"
                      f"{heap:>14.1f}{base * 1e3:>12.1f}{total / base:>7.2f}")  # fmt: skip
                goal = GOAL_S * args.trades / 100_000
                if total > goal and not args.smoke:
                    problems.append(f"goal: {fmt} took {total:.2f} s, more than {goal:.2f} s")
                if not args.smoke:
                    verdict = "met" if total <= goal else "NOT met"
                    print(f"  goal ({fmt} total <= {goal:.2f} s): {verdict}")
        finally:
            server.stop(timeout=30)
    for problem in problems:
        print(f"FAILED: {problem}")
    print("checks: " + ("FAILED" if problems else "all passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
