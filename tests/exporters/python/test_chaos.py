"""Chaos: 50,000 fills pushed while the backend is SIGKILLed every 1-2 s and the exporter once.

Afterwards the database holds each fill exactly once, and the run's trades equal
those of the same fills pushed to an undisturbed backend (another user's run).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from fillbook_exporter import Exporter, IdGenerator

from tests.exporters.python import chaos_child
from tests.exporters.python.helpers import db_path, run_id, trades, wait_derived
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 50_000
FIRST_KILL_AT = 5_000  # events spooled by the exporter when the backend is first killed
DEADLINE_S = 240.0


class ChildExporter:
    """`chaos_child` in a subprocess; a thread collects its progress lines.

    With `kill_at` the thread SIGKILLs the process as soon as it reports that many
    events spooled (mid-stream: more in its spool, some on the wire, the rest unsent).
    """

    def __init__(
        self, url: str, api_key: str, spool: Path, start: int, kill_at: int | None = None
    ) -> None:
        self.kill_at = kill_at
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.exporters.python.chaos_child", url, api_key,
             str(spool), str(start), str(EVENTS)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.spooled = start
        self.done = threading.Event()
        self.summary = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode().strip()
            if line.startswith("spooled "):
                self.spooled = int(line.split()[1])
                if self.kill_at is not None and self.spooled >= self.kill_at:
                    self.kill()
                    return
            elif line.startswith("done"):
                self.summary = line
                self.done.set()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def expected_ids() -> list[str]:
    ids = IdGenerator("chaos", str(chaos_child.RUN["key"]))
    return sorted(ids({"type": "execution", **fill}) for fill in chaos_child.fills(0, EVENTS))


def stored_ids(server: LiveServer, rid: int) -> list[str]:
    with sqlite3.connect(db_path(server)) as connection:
        rows = connection.execute(
            "SELECT exec_id FROM execution WHERE run_id = ? ORDER BY exec_id", (rid,)
        ).fetchall()
    return [row[0] for row in rows]


def test_every_fill_arrives_exactly_once_through_crashes(tmp_path: Path) -> None:
    started = time.monotonic()
    rng = random.Random(6)
    with LiveServer(tmp_path / "backend") as server:
        calm = server.create_account("calm")
        stormy = server.create_account("stormy")

        # The undisturbed run: the same fills from an exporter in this process.
        with Exporter(server.url, calm.api_key, "chaos", chaos_child.RUN,
                      spool_path=tmp_path / "calm.spool", batch_size=2000) as exporter:
            chaos_child.push(exporter, 0, EVENTS)
            exporter.flush(timeout=120)
        calm_s = time.monotonic() - started

        spool = tmp_path / "stormy.spool"
        child = ChildExporter(server.url, stormy.api_key, spool, 0, kill_at=EVENTS // 2)
        restarts = 0
        child_killed_at: int | None = None
        try:
            while not child.done.is_set():
                assert time.monotonic() - started < DEADLINE_S, (
                    f"no end after {restarts} restarts; spooled {child.spooled}")
                next_kill = time.monotonic() + rng.uniform(1.0, 2.0)
                while time.monotonic() < next_kill and not child.done.wait(0.02):
                    if child_killed_at is None and child.process.poll() is not None:
                        child_killed_at = child.spooled  # resume from its last report
                        child = ChildExporter(server.url, stormy.api_key, spool, child_killed_at)
                    if restarts == 0 and child.spooled >= FIRST_KILL_AT:
                        break  # the first kill mid-stream, however fast the push goes
                if not child.done.is_set():
                    server.kill()
                    server.start()
                    restarts += 1
        finally:
            child.kill()
        story = (f"{restarts} backend restarts, exporter killed at {child_killed_at}, "
                 f"calm run {calm_s:.1f} s, storm until {time.monotonic() - started:.1f} s; "
                 f"the last exporter: {child.summary}")
        assert child_killed_at is not None
        # Each restart counted happened before the exporter reported everything delivered
        # (the first comes once it has spooled FIRST_KILL_AT; a fast push needs few more).
        assert restarts >= 1, f"the test did not stress: {story}"

        wait_derived(server)
        rid = run_id(server, stormy, "chaos")
        assert stored_ids(server, rid) == expected_ids(), story  # each fill exactly once
        assert trades(server, stormy, "chaos") == trades(server, calm, "chaos")
        assert len(trades(server, calm, "chaos")) == EVENTS // len(chaos_child.CYCLE)
        assert run_id(server, calm, "chaos") != rid
