"""`fillbook-export import` against a live backend over real HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fillbook_exporter.cli import main

from tests.imports.helpers import DATA
from tests.live_server import Account, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("imports-backend")) as live:
        yield live


_users = itertools.count()


@pytest.fixture
def account(server: LiveServer) -> Account:
    return server.create_account(f"importer{next(_users)}")


def run(server: LiveServer, account: Account, *args: str) -> int:
    return main(["import", *args, "--url", server.url, "--api-key", account.api_key, "--quiet"])


class TestImportCommand:
    def test_preview_confirm_and_reimport(self, server: LiveServer, account: Account,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
        code = run(server, account, str(DATA / "ibkr_trades.xml"), "--run", "IB", "--yes")
        out = capsys.readouterr().out
        assert code == 0, out
        assert "ibkr_trades.xml: Interactive Brokers Flex Query (XML) (detected), times in " \
               "America/New_York" in out
        assert "6 rows: 4 new fills, 0 already stored, 2 skipped" in out
        assert "row 1: 2023-12-15T14:30:01Z buy 2 MESZ3 @ 4700.25 (commission 1.24)" in out
        assert "instrument SPY 231215C00470000: create, multiplier 100" in out
        assert "stored 4 fills in run 1, 0 duplicates, 0 refused, 2 trades rebuilt" in out
        trades = httpx.get(f"{server.url}/api/runs/1/trades", headers=account.headers,
                           trust_env=False).json()["items"]  # fmt: skip
        assert sorted(t["net_pnl"] for t in trades) == [20.02, 48.68]

        assert run(server, account, str(DATA / "ibkr_trades.csv"), "--run-id", "1", "--yes") == 0
        out = capsys.readouterr().out
        assert "5 rows: 1 new fills, 4 already stored, 0 skipped" in out
        assert "stored 1 fills in run 1, 4 duplicates, 0 refused" in out

    def test_a_zone_is_needed_and_nothing_is_stored(self, server: LiveServer, account: Account,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
        assert run(server, account, str(DATA / "quantower.csv"), "--yes") == 2
        assert "nothing stored: this file needs --tz" in capsys.readouterr().err
        imports = httpx.get(f"{server.url}/api/imports", headers=account.headers,
                            trust_env=False).json()  # fmt: skip
        assert imports == []

    def test_declining_stores_nothing(self, server: LiveServer, account: Account,
                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
        monkeypatch.setattr("builtins.input", lambda _prompt: "n")
        code = run(server, account, str(DATA / "quantower.csv"), "--tz", "America/New_York")
        assert code == 3
        assert capsys.readouterr().out.endswith("nothing stored\n")
        bad = tmp_path / "broken.xml"
        bad.write_bytes((DATA / "ibkr_trades.xml").read_bytes()[:900])
        assert run(server, account, str(bad), "--yes") == 1
        assert "the server refused the file: 422: broken.xml is not a readable Interactive " \
               "Brokers Flex Query (XML) file: the XML cannot be read" in capsys.readouterr().err
