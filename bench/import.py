"""Statement import throughput: a generated NinjaTrader 8 file through preview and confirm,
against the plain ingest of the same fills measured in the same run.

    .venv/bin/python bench/import.py [--rows 100000]

Runs the app in process (fresh SQLite database in a temporary directory, the ingest
writer and derivations in threads, as the tests do). The baseline pushes the file's
fills as contract `execution` events to `POST /api/ingest?wait=derived` in batches of
10,000 for one user; the import uploads the file (`POST /api/imports`, the preview) and
confirms it (`POST .../confirm`, polled until done, which includes waiting for the
trades to be derived) for another. Printed: seconds and rows/s of each, and the import's
rate as a ratio of the baseline's (issue #20 asks for at least 0.5).

Self-checks (exit 1 on failure): the preview counts every row as a new fill, the import
stores exactly --rows fills, and importing the same file again stores 0 with --rows
duplicates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from backend.api.app import create_app  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.db.engine import Database  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402

HEADER = (
    "Instrument,Action,Quantity,Price,Time,ID,E/X,Position,Order ID,Name,Commission,Rate,"
    "Account,Connection\n"
)
START = dt.datetime(2024, 1, 2, 9, 0, 0)  # noqa: DTZ001 (the file's wall clock)


def generate(rows: int) -> tuple[bytes, list[dict[str, Any]]]:
    """A NinjaTrader file of `rows` executions (round trips of 1 MES) and the same fills as
    contract events."""
    lines, events = [HEADER], []
    for i in range(rows):
        when = START + dt.timedelta(seconds=7 * i)
        side = "Buy" if i % 2 == 0 else "Sell"
        price = 4700 + (i % 40) * 0.25
        lines.append(
            f"MES 03-24,{side},1,{price:.2f},{when:%m/%d/%Y %H:%M:%S},x{i:08d},,,"
            f"o{i},,$0.62,1,Sim101,Sim\n"
        )
        ts = when.replace(tzinfo=dt.UTC) + dt.timedelta(hours=6)  # America/Chicago in winter
        events.append(
            {
                "type": "execution",
                "id": f"x{i:08d}",
                "ts": ts.isoformat(),
                "symbol": "MES 03-24",
                "side": side.lower(),
                "qty": 1.0,
                "price": price,
                "commission": 0.62,
                "account": "Sim101",
            }
        )
    return "".join(lines).encode(), events


def user(client: TestClient, name: str) -> dict[str, str]:
    client.post("/api/auth/register", json={"username": name, "password": "correct horse"})
    token = client.post("/api/auth/login", data={"username": name, "password": "correct horse"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def imported(
    client: TestClient, headers: dict[str, str], data: bytes
) -> tuple[dict[str, Any], dict[str, Any], float, float]:
    started = time.perf_counter()
    preview = client.post(
        "/api/imports",
        params={"filename": "bench.csv", "tz": "America/Chicago"},
        content=data,
        headers=headers,
    ).json()
    previewed = time.perf_counter()
    client.post(f"/api/imports/{preview['id']}/confirm", json={}, headers=headers)
    while True:
        status = client.get(f"/api/imports/{preview['id']}", headers=headers).json()
        if status["state"] != "running":
            break
        time.sleep(0.05)
    return preview, status, previewed - started, time.perf_counter() - previewed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    data, events = generate(args.rows)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        settings = Settings.model_validate(
            {
                "database_url": url,
                "data_dir": Path(tmp) / "data",
                "bcrypt_rounds": 4,
                "secret_key": "bench-secret-key-that-is-long-enough-for-hs256-0123456789",
                "derivation_process": False,
                "writer_process": False,
                "allowed_hosts": ["testserver"],
                "registrations_per_hour": 1000,
            }
        )
        with TestClient(create_app(settings)) as client:
            base, imp = user(client, "baseline"), user(client, "importer")
            started = time.perf_counter()
            for start in range(0, len(events), 10_000):
                answer = client.post(
                    "/api/ingest?wait=derived&timeout=60",
                    headers=base,
                    json={
                        "source": "bench",
                        "run": {"key": "b", "strategy": "b", "mode": "live"},
                        "events": events[start : start + 10_000],
                    },
                ).json()
                if answer["accepted"] != len(events[start : start + 10_000]):
                    failures.append(f"baseline batch at {start}: {answer}")
            baseline = time.perf_counter() - started
            preview, status, preview_s, confirm_s = imported(client, imp, data)
            if preview["fills_total"] != args.rows:
                failures.append(f"preview: {preview['fills_total']} fills, expected {args.rows}")
            summary = status.get("summary") or {}
            if status["state"] != "done" or summary.get("stored") != args.rows:
                failures.append(f"import: {status['state']}, stored {summary.get('stored')}")
            again, repeat, _, _ = imported(client, imp, data)
            rsummary = repeat.get("summary") or {}
            if (again["duplicates_total"], rsummary.get("stored"), rsummary.get("duplicates")) != (
                args.rows,
                0,
                args.rows,
            ):
                failures.append(
                    f"re-import: preview duplicates {again['duplicates_total']}, "
                    f"stored {rsummary.get('stored')}"
                )
    total = preview_s + confirm_s
    print(f"rows: {args.rows}")
    print(
        f"baseline ingest (10k batches, wait=derived): {baseline:.2f} s, "
        f"{args.rows / baseline:,.0f} rows/s"
    )
    print(f"import preview: {preview_s:.2f} s; confirm to done: {confirm_s:.2f} s")
    print(
        f"import total: {total:.2f} s, {args.rows / total:,.0f} rows/s, "
        f"ratio to baseline {baseline / total:.2f}"
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
