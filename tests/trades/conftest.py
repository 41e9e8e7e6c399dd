"""Trades tests rebuild through the compiled kernel, as a warmed-up server does."""

from __future__ import annotations

import pytest

from backend.trades import kernel


@pytest.fixture(scope="session", autouse=True)
def trade_kernel() -> None:
    assert kernel.wait(timeout=600), "the numba kernel did not compile"


@pytest.fixture(params=["kernel", "python"])
def rebuild_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with the kernel and once with the pure-Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(kernel, "_compiled", None)
    return str(request.param)
