"""SIGKILL while batches are being written: each batch is all there or not there at all."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.live_server import Account, LiveServer

BATCH = 2000
PUSHERS = 3


def _batch(pusher: int, number: int) -> dict[str, object]:
    base = 1_704_189_600_000_000_000 + (pusher * 10_000 + number) * 10_000_000
    events = [{"type": "execution", "id": f"p{pusher}-b{number}-{i}", "ts": base + i * 1000,
               "symbol": f"S{pusher}", "side": "buy" if i % 2 == 0 else "sell", "qty": 1,
               "price": 100.0 + i % 7} for i in range(BATCH)]  # fmt: skip
    return {"source": f"pusher-{pusher}", "run": {"key": "r", "strategy": "x", "mode": "live"},
            "events": events}  # fmt: skip


def _push_until_refused(server: LiveServer, account: Account, pusher: int, acked: list[str]) -> None:
    with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=30) as http:
        for number in range(10_000):
            try:
                response = http.post("/api/ingest", json=_batch(pusher, number))
            except httpx.TransportError:
                return  # the server died under us
            assert response.status_code == 200, response.text
            acked.append(f"p{pusher}-b{number}")


class TestKill:
    def test_kill_during_heavy_ingest_loses_no_acknowledged_batch_and_splits_none(
        self, tmp_path: Path
    ) -> None:
        server = LiveServer(tmp_path)
        server.start()
        account = server.create_account("alice")
        acked: list[str] = []
        pushers = [threading.Thread(target=_push_until_refused, args=(server, account, p, acked))
                   for p in range(PUSHERS)]  # fmt: skip
        for thread in pushers:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # into the middle of the next group commit
        server.kill()
        for thread in pushers:
            thread.join(30)
        assert len(acked) >= 4

        database = tmp_path / "fillbook.db"
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            ids = [row[0] for row in connection.execute("SELECT exec_id FROM execution")]
        connection.close()
        per_batch = Counter(exec_id.rsplit("-", 1)[0] for exec_id in ids)
        assert set(per_batch.values()) == {BATCH}  # all or nothing, batch by batch
        assert set(acked) <= set(per_batch)  # every acknowledged batch survived the kill

        server.start()  # the same database serves again and finishes the pending derivations
        try:
            with httpx.Client(base_url=server.url, headers=account.headers, timeout=30) as http:
                assert http.get("/api/health").json()["status"] == "ok"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    trades = http.get("/api/trades", params={"limit": 1}).json()["items"]
                    if trades:
                        break
                    time.sleep(0.2)
                assert trades, "derivations did not resume after the restart"
        finally:
            server.stop()
