"""The C# exporter (exporters/dotnet) built with Mono and run against a real backend.

Builds the library, its NUnit tests and the ExportRun console program with
exporters/dotnet/build.sh, runs the NUnit suite (with a live backend for the tests that need
one), pushes a run through the compiled exporter and checks what the API serves, and runs a
small chaos test: the backend is SIGKILLed and restarted while the exporter sends, and the
exporter process itself is killed once and resumed from its spool.

Without Mono the module is skipped, unless FILLBOOK_REQUIRE_POSTGRES is set (as `make test`
does, after scripts/ensure-system-deps.sh installed mono-devel, nunit-console and
libnunit-cil-dev): then a missing toolchain fails instead of passing silently.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import PROJECT_ROOT, Account, LiveServer, all_pages

DOTNET_DIR = PROJECT_ROOT / "exporters" / "dotnet"
TOOLS = ("mcs", "mono", "nunit-console")


def _require_mono() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"Mono tools missing: {', '.join(missing)}"
    if os.environ.get("FILLBOOK_REQUIRE_POSTGRES"):
        pytest.fail(f"{reason}; `make test` installs mono-devel, nunit-console, libnunit-cil-dev")
    pytest.skip(f"{reason}; `make test` installs mono-devel, nunit-console, libnunit-cil-dev")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library, tests and ExportRun.exe compiled by build.sh (warnings fail the build)."""
    _require_mono()
    out = tmp_path_factory.mktemp("dotnet-build")
    result = subprocess.run(
        [str(DOTNET_DIR / "build.sh"), str(out)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"build.sh failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("dotnet-backend")) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> Account:
    return server.create_account("csharp")


@dataclass(frozen=True)
class ExportRun:
    """Runs the compiled ExportRun.exe console program."""

    build_dir: Path
    url: str
    api_key: str

    def args(self, mode: str, run_key: str, spool: Path, *extra: str) -> list[str]:
        return [
            "mono", str(self.build_dir / "ExportRun.exe"), mode,
            "--url", self.url, "--key", self.api_key, "--source", "csharp-tests",
            "--run-key", run_key, "--spool", str(spool), *extra,
        ]  # fmt: skip

    def run(self, mode: str, run_key: str, spool: Path, *extra: str) -> dict[str, Any]:
        result = subprocess.run(
            self.args(mode, run_key, spool, *extra), capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"ExportRun {mode} failed:\n{result.stdout}\n{result.stderr}"
        return summary(result.stdout)


def summary(stdout: str) -> dict[str, Any]:
    """The JSON line ExportRun prints last."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, f"no summary in ExportRun output:\n{stdout}"
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def run_id(http: httpx.Client, key: str) -> int:
    runs = http.get("/api/runs", params={"limit": 100}).raise_for_status().json()["items"]
    matching = [run["id"] for run in runs if run["key"] == key and run["source"] == "csharp-tests"]
    assert len(matching) == 1, f"expected one run with key {key}, got {runs}"
    return int(matching[0])


def closed_trades(http: httpx.Client, run: int, expected: int, timeout: float = 30.0) -> list[Any]:
    """The run's closed trades once the derivation thread has produced `expected` of them."""
    deadline = time.monotonic() + timeout
    while True:
        trades = [t for t in all_pages(http, f"/api/runs/{run}/trades") if not t["open"]]
        if len(trades) >= expected or time.monotonic() > deadline:
            return trades
        time.sleep(0.2)


class TestNUnitSuite:
    def test_nunit_tests_pass(self, build_dir: Path, server: LiveServer, account: Account) -> None:
        env = {
            **os.environ,
            "FILLBOOK_TEST_URL": server.url,
            "FILLBOOK_TEST_API_KEY": account.api_key,
        }
        result_xml = build_dir / "TestResult.xml"
        result = subprocess.run(
            ["nunit-console", "-nologo", f"-xml={result_xml}", str(build_dir / "Fillbook.Exporter.Tests.dll")],
            cwd=build_dir, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"NUnit failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
        totals = ET.parse(result_xml).getroot().attrib
        # With the backend's URL and key set, nothing may fail, be ignored or skipped.
        problems = {
            name: int(totals[name]) for name in ("failures", "errors", "ignored", "not-run")
        }
        assert problems == dict.fromkeys(problems, 0), totals
        assert int(totals["total"]) >= 60, totals


class TestPushRun:
    def test_a_run_arrives_exactly_once(
        self, build_dir: Path, server: LiveServer, tmp_path: Path
    ) -> None:
        account = server.create_account("push-run")  # its own user: instruments are per user
        export = ExportRun(build_dir, server.url, account.api_key)
        first = export.run("push-run", "push-run-1", tmp_path / "first.spool")
        counts = ("flushed", "pending", "acknowledged", "accepted", "duplicates", "rejected")
        assert {name: first[name] for name in counts} == {
            "flushed": True, "pending": 0, "acknowledged": 13, "accepted": 12, "duplicates": 0,
            "rejected": 1,
        }  # fmt: skip
        # The exporter refuses amounts and times outside the input domain itself; the words
        # (side, status, ...) are the service's to reject.
        assert first["rejections"] == [{"id": "x-bad", "error": "side: must be 'buy' or 'sell'"}]

        # The same run pushed again from a fresh spool (a reinstalled platform replaying its
        # day): ids, derived ones included, make every event a duplicate.
        again = export.run("push-run", "push-run-1", tmp_path / "again.spool")
        assert {name: again[name] for name in counts} == {
            "flushed": True, "pending": 0, "acknowledged": 13, "accepted": 0, "duplicates": 12,
            "rejected": 1,
        }  # fmt: skip

        with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as http:
            run = run_id(http, "push-run-1")
            detail = http.get(f"/api/runs/{run}").raise_for_status().json()
            fields = ("status", "ended_ts", "mode", "initial_capital")
            assert {name: detail[name] for name in fields} == {
                "status": "completed", "ended_ts": "2023-12-15T14:40:00Z", "mode": "paper",
                "initial_capital": 25000,
            }  # fmt: skip

            executions = all_pages(http, f"/api/runs/{run}/executions")
            ids = [execution["id"] for execution in executions]
            assert len(ids) == len(set(ids)) == 4
            assert ids[:2] == ["x-1", "x-2"]
            assert all(i.startswith("fb-") for i in ids[2:])  # derived by the exporter
            assert executions[0]["ts"] == "2023-12-15T14:30:02Z"

            orders = {o["order_id"]: o for o in all_pages(http, f"/api/runs/{run}/orders")}
            assert set(orders) == {"o-1", "o-2"}
            assert orders["o-1"]["status"] == "filled"
            assert Decimal(str(orders["o-1"]["limit_price"])) == Decimal("4700.25")

            bars = http.get(
                "/api/bars", params={"symbol": "MESZ3", "timeframe": "1m",
                                     "start": "2023-12-15T14:30:00Z", "end": "2023-12-15T14:33:00Z"},
            ).raise_for_status().json()  # fmt: skip
            assert [bar["ts"] for bar in bars["bars"]] == [
                "2023-12-15T14:30:00Z", "2023-12-15T14:31:00Z", "2023-12-15T14:32:00Z",
            ]  # fmt: skip
            assert bars["bars"][0]["volume"] == 1000

            trades = closed_trades(http, run, expected=2)
            assert [(t["direction"], Decimal(str(t["net_pnl"]))) for t in trades] == [
                ("long", Decimal("21.02")),  # (4702.50 - 4700.25) * 2 * 5 - 1.48
                ("short", Decimal("9.26")),  # (4703.00 - 4701.00) * 1 * 5 - 0.74
            ]


class TestChaos:
    """The backend is SIGKILLed and restarted while the C# exporter sends; so is the exporter."""

    COUNT = 3000
    KILL_AT = (0.25, 0.5, 0.75)  # fractions stored when the backend is killed (3 restarts)

    def test_each_event_is_stored_exactly_once(
        self, build_dir: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        rng = random.Random(6)
        spool = tmp_path_factory.mktemp("chaos-spool") / "chaos.spool"
        backend = LiveServer(tmp_path_factory.mktemp("chaos-backend"))
        backend.start()
        exporter: subprocess.Popen[str] | None = None
        try:
            account = backend.create_account("chaos")
            export = ExportRun(build_dir, backend.url, account.api_key)
            # Small batches keep the stream going long enough to kill the backend mid-way;
            # without fsync the spool fills before much is sent (a SIGKILL loses nothing the
            # process wrote; only a power cut would need fsync); compacting the spool every 500
            # acknowledged events puts compactions among the kills.
            options = ("--batch-events", "25", "--no-fsync", "--compact-after", "500")
            exporter = subprocess.Popen(
                export.args("chaos", "chaos-1", spool, "--count", str(self.COUNT), *options),
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            assert exporter.stdout is not None
            assert exporter.stdout.readline().strip() == f"spooled {self.COUNT + 1}"

            stored_at_kills = []
            with httpx.Client(base_url=backend.url, headers=account.headers, timeout=5) as http:
                for kill_number, fraction in enumerate(self.KILL_AT):
                    stored_at_kills.append(wait_stored(http, "chaos-1", int(fraction * self.COUNT)))
                    backend.kill()
                    if kill_number == 1:
                        # The exporter dies too, mid-stream; a new process resumes its spool.
                        exporter.kill()
                        exporter.wait()
                        exporter = subprocess.Popen(
                            export.args("resume", "chaos-1", spool, *options),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                        )  # fmt: skip
                    time.sleep(rng.uniform(0.1, 0.4))
                    backend.start()

            out, _ = exporter.communicate(timeout=120)
            final = summary(out)
            assert exporter.returncode == 0, out
            assert (final["flushed"], final["pending"], final["rejected"]) == (True, 0, 0)
            # The kills landed mid-stream, and the resumed exporter had to retry through them.
            assert all(stored < self.COUNT for stored in stored_at_kills), stored_at_kills
            assert final["retries"] > 0
            # Compaction kept the spool small: 3,001 event records would take ~400 KB.
            assert spool.stat().st_size < 100_000, spool.stat().st_size

            with httpx.Client(base_url=backend.url, headers=account.headers, timeout=30) as http:
                run = run_id(http, "chaos-1")
                executions = all_pages(http, f"/api/runs/{run}/executions")
                ids = [execution["id"] for execution in executions]
                assert len(ids) == self.COUNT, f"{len(ids)} fills stored, {self.COUNT} sent"
                assert len(set(ids)) == self.COUNT
                # Alternating buy 1 / sell 1: every pair is one closed long trade.
                trades = closed_trades(http, run, expected=self.COUNT // 2)
                assert len(trades) == self.COUNT // 2
                assert all(t["qty"] == 1 and t["direction"] == "long" for t in trades)
        finally:
            if exporter is not None and exporter.poll() is None:
                exporter.kill()
                exporter.wait()
            backend.stop()


def wait_stored(http: httpx.Client, key: str, at_least: int, timeout: float = 60.0) -> int:
    """Polls the run's execution count until it reaches `at_least`; returns the count seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            runs = http.get("/api/runs", params={"limit": 100}).raise_for_status().json()["items"]
        except httpx.TransportError:  # a keep-alive connection to the killed process
            time.sleep(0.02)
            continue
        counts = [int(run["execution_count"]) for run in runs if run["key"] == key]
        if counts and counts[0] >= at_least:
            return counts[0]
        time.sleep(0.02)
    raise TimeoutError(f"fewer than {at_least} fills stored after {timeout} s")
