"""One live backend per test module; a fresh user (and API key) per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.live_server import Account, LiveServer

_users = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("exporter-backend")) as live:
        yield live


@pytest.fixture
def account(server: LiveServer) -> Account:
    return server.create_account(f"trader{next(_users)}")
