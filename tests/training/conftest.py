"""The app's settings in these tests: a training node URL that nothing listens on."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import Settings
from tests.conftest import make_settings
from tests.live_server import free_port


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """As tests/conftest.py's, with the training node down (nothing listens on its port)."""
    return make_settings(
        database_url,
        tmp_path / "data",
        training_node_url=f"http://127.0.0.1:{free_port()}",
        training_node_token="backend-test-node-token-0123456789",
    )
