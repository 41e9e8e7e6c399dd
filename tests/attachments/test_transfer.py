"""Attachments in the journal export/import: base64 records, re-checked and re-thumbnailed."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.db.models import Attachment, Playbook
from tests.attachments import images
from tests.attachments.conftest import created, files_of, upload
from tests.conftest import login, register
from tests.ingest.helpers import app_context


def _export(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/export", headers=headers)
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.content.splitlines()]


def _import(client: TestClient, headers: dict[str, str], records: list[dict[str, Any]]) -> Any:
    body = b"".join(orjson.dumps(r) + b"\n" for r in records)
    return client.post(
        "/api/import", content=body, headers={**headers, "Content-Type": "application/x-ndjson"}
    )


def _playbook(client: TestClient, user_id: int, name: str) -> int:
    with app_context(client).db.session(write=True) as session:
        playbook = Playbook(user_id=user_id, name=name)
        session.add(playbook)
        session.flush()
        return playbook.id


class TestExportImport:
    def test_a_round_trip_into_another_user(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        on_trade, on_day, on_playbook = images.png(900, 300), images.jpeg(40, 30), images.webp(8, 8)
        alice_playbook = _playbook(client, 1, "Opening range")
        created(upload(client, alice, on_trade, key=trade_id, filename="entry.png"))
        created(
            upload(client, alice, on_day, target="day", key="2024-01-02", content_type="image/jpeg")
        )
        created(upload(client, alice, on_playbook, target="playbook", key=alice_playbook,
                       content_type="image/webp", filename="example.webp"))  # fmt: skip
        exported = _export(client, alice)
        records = [r for r in exported if r["kind"] == "attachment"]
        assert [(r["target"], r.get("source"), r.get("first_exec_id"), r.get("day"), r.get("playbook"),
                 r["filename"], r["content_type"]) for r in records] == [
            ("trade", "desk", "x1", None, None, "entry.png", "image/png"),
            ("day", None, None, "2024-01-02", None, "day-2024-01-02.jpg", "image/jpeg"),
            ("playbook", None, None, None, "Opening range", "example.webp", "image/webp"),
        ]  # fmt: skip
        assert base64.b64decode(records[0]["data"]) == on_trade
        assert records[0]["sha256"] == hashlib.sha256(on_trade).hexdigest()

        register(client, "bob")
        bob = login(client, "bob")
        bob_playbook = _playbook(client, 2, "Opening range")  # the playbooks' own import makes it
        response = _import(client, bob, exported)
        assert response.status_code == 200, response.text
        assert response.json()["attachments"] == 3
        (bob_trade,) = client.get("/api/trades", headers=bob).json()["items"]
        for target, key, data in (("trade", bob_trade["id"], on_trade), ("day", "2024-01-02", on_day),
                                  ("playbook", bob_playbook, on_playbook)):  # fmt: skip
            (listed,) = client.get(
                "/api/attachments", params={"target": target, "key": key}, headers=bob
            ).json()
            assert client.get(listed["url"], headers=bob).content == data
            thumb = client.get(listed["thumbnail_url"], headers=bob).content
            assert images.format_of(thumb) == "WEBP"
        (trade_copy,) = client.get("/api/attachments", params={"target": "trade", "key": bob_trade["id"]},
                                   headers=bob).json()  # fmt: skip
        assert images.size_of(client.get(trade_copy["thumbnail_url"], headers=bob).content) == (
            320,
            107,
        )
        assert len(files_of(client, 2)) == 6
        # created_at, names and bytes as they were
        assert [r for r in _export(client, bob) if r["kind"] == "attachment"] == records

        again = _import(client, bob, exported)  # the same file twice adds nothing
        assert again.json()["attachments"] == 0
        with app_context(client).db.session() as session:
            assert (
                len(session.scalars(select(Attachment).where(Attachment.user_id == 2)).all()) == 3
            )
        assert len(files_of(client, 2)) == 6

    def test_an_attachment_that_is_not_an_image_refuses_the_whole_file(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        header = _export(client, alice)[0]
        svg = {"kind": "attachment", "target": "day", "day": "2024-01-02", "filename": "x.svg",
               "content_type": "image/png", "data": base64.b64encode(images.SVG).decode()}  # fmt: skip
        response = _import(client, alice, [header, svg])
        assert response.status_code == 422
        assert response.json()["detail"].startswith(
            "line 2: attachment: the content is not a PNG, JPEG or WebP image (it starts with b'<svg xml'"
        )
        tampered = svg | {"data": base64.b64encode(images.png()).decode(), "sha256": "0" * 64}
        response = _import(client, alice, [header, tampered])
        assert response.json()["detail"] == "line 2: attachment: data does not match its sha256"
        assert files_of(client) == []
