"""Alice with one closed trade; helpers to upload and find files on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import create_api_key
from tests.ingest.helpers import app_context, batch, fill, push

RUN = {"key": "r1", "strategy": "breakout", "mode": "live"}


@pytest.fixture
def trade_id(client: TestClient, alice: dict[str, str]) -> int:
    """A closed trade of alice's."""
    key = {"Authorization": f"Bearer {create_api_key(client, alice, scopes=('ingest', 'read'))}"}
    events = [fill("x1", "2024-01-02T10:00:10Z", "buy", 1, 10.0),
              fill("x2", "2024-01-02T10:00:50Z", "sell", 1, 11.0)]  # fmt: skip
    push(client, key, batch(events, source="desk", run=RUN))
    assert app_context(client).ingest.derivations.wait_idle()
    (trade,) = client.get("/api/trades", headers=alice).json()["items"]
    return int(trade["id"])


def upload(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    target: str = "trade",
    key: object = 1,
    content_type: str = "image/png",
    filename: str | None = None,
) -> httpx.Response:
    extra = {"Content-Type": content_type}
    if filename is not None:
        extra["X-Filename"] = filename
    response: httpx.Response = client.post(
        "/api/attachments", params={"target": target, "key": str(key)}, content=data,
        headers={**headers, **extra},
    )  # fmt: skip
    return response


def files_of(client: TestClient, user_id: int = 1) -> list[str]:
    """The names in a user's attachment folder, sorted."""
    folder = data_dir(client) / "attachments" / str(user_id)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def data_dir(client: TestClient) -> Path:
    return app_context(client).settings.data_dir


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
