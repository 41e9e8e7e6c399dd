"""Every benchmark in `--smoke` mode: tiny sizes, every one of its own checks, exit 0.

A change that breaks a benchmark (an API it drives, a check it makes) fails here the day it
lands. The goals are not enforced in smoke mode: timings belong to the benchmarks
themselves (docs/benchmarks.md). `heavy`: those that start the server and client processes
or TensorFlow; `-m "not heavy"` leaves them out. docs/benchmarks.md has the times.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
heavy = pytest.mark.heavy

BENCHES = [
    "analytics",
    "trades",
    "derive",
    "exporter",
    pytest.param("ingest", marks=heavy),
    pytest.param("stream", marks=heavy),
    pytest.param("report", marks=heavy),
    pytest.param("insight", marks=heavy),
    pytest.param("backtest", marks=heavy),
    pytest.param("load", marks=heavy),
    pytest.param("training", marks=heavy),
]


@pytest.mark.parametrize("bench", BENCHES)
def test_smoke(bench: str, tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{bench}.py"), "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"bench/{bench}.py --smoke exited {result.returncode}:\n{output}"
