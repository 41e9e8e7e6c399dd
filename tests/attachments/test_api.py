"""/api/attachments over the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import stat

import anyio
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from backend.attachments import service
from backend.attachments.service import sweep
from backend.db.models import Attachment, Playbook, StrategyRun
from tests.attachments import images
from tests.attachments.conftest import created, data_dir, files_of, upload
from tests.conftest import create_api_key
from tests.ingest.helpers import app_context, batch, fill, push


class TestUpload:
    def test_a_png_on_a_trade_is_stored_served_and_listed(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        data = images.png(1000, 500)
        body = created(upload(client, alice, data, key=trade_id, filename="chart 1.png"))
        attachment_id = body.pop("id")
        assert body.pop("created_at")
        assert body == {
            "target": "trade", "key": str(trade_id), "filename": "chart 1.png",
            "content_type": "image/png", "size": len(data), "width": 1000, "height": 500,
            "url": f"/api/attachments/{attachment_id}/file",
            "thumbnail_url": f"/api/attachments/{attachment_id}/thumbnail",
        }  # fmt: skip
        listed = client.get(
            "/api/attachments", params={"target": "trade", "key": trade_id}, headers=alice
        )
        assert [a["id"] for a in listed.json()] == [attachment_id]

        original = client.get(f"/api/attachments/{attachment_id}/file", headers=alice)
        assert original.status_code == 200
        assert original.content == data
        assert original.headers["content-type"] == "image/png"
        assert original.headers["x-content-type-options"] == "nosniff"
        assert original.headers["cache-control"] == "private"
        assert original.headers["content-disposition"].startswith("inline;")
        thumb = client.get(f"/api/attachments/{attachment_id}/thumbnail", headers=alice)
        assert thumb.headers["content-type"] == "image/webp"
        assert images.format_of(thumb.content) == "WEBP"
        assert images.size_of(thumb.content) == (320, 160)

        assert files_of(client) == [f"{attachment_id}.png", f"{attachment_id}.thumb.webp"]
        folder = data_dir(client) / "attachments" / "1"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stored = (folder / f"{attachment_id}.png").read_bytes()
        assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()

    def test_the_format_comes_from_the_content_not_the_header(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        body = created(
            upload(client, alice, images.jpeg(20, 10), key=trade_id, content_type="image/webp")
        )
        assert (body["content_type"], body["filename"]) == ("image/jpeg", f"trade-{trade_id}.jpg")
        assert files_of(client) == [f"{body['id']}.jpg", f"{body['id']}.thumb.webp"]

    def test_names_on_disk_never_come_from_the_client(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        body = created(upload(client, alice, images.webp(), key=trade_id, content_type="image/webp",
                              filename="../../etc/passwd%20x.webp"))  # fmt: skip
        assert body["filename"] == "passwd x.webp"
        assert files_of(client) == [f"{body['id']}.thumb.webp", f"{body['id']}.webp"]
        refused = upload(client, alice, images.png(), key=trade_id, filename="a" * 201)
        assert refused.status_code == 422
        assert refused.json()["detail"] == "X-Filename: 201 characters; at most 200"


class TestRefused:
    def test_wrong_types_are_refused_and_nothing_is_kept(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        for data, content_type, status, detail in [
            (images.PNG_HEADER_ON_TEXT, "image/png", 422,
             "body: the content starts like a PNG image but does not decode as one"),
            (images.gif(), "image/png", 422,
             "body: the content is not a PNG, JPEG or WebP image (it starts with b'GIF87a"),
            (images.SVG, "image/png", 422,
             "body: the content is not a PNG, JPEG or WebP image (it starts with b'<svg xml'"),
            (images.SVG, "image/svg+xml", 415,
             "Content-Type: 'image/svg+xml'; send the raw image as image/png, image/jpeg or image/webp"),
            (images.gif(), "image/gif", 415,
             "Content-Type: 'image/gif'; send the raw image as image/png, image/jpeg or image/webp"),
            (b"", "image/png", 422, "body: empty; send the image's bytes"),
        ]:  # fmt: skip
            response = upload(client, alice, data, key=trade_id, content_type=content_type)
            assert response.status_code == status, response.text
            assert response.json()["detail"].startswith(detail), response.json()["detail"]
        assert files_of(client) == []
        assert (
            client.get(
                "/api/attachments", params={"target": "trade", "key": trade_id}, headers=alice
            ).json()
            == []
        )

    def test_a_decompression_bomb_is_refused_naming_the_limit(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        response = upload(client, alice, images.bomb(), key=trade_id)
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "body: the image is 8000x8000 = 64000000 pixels; at most 40000000 (40 megapixels) are accepted"
        )

    def test_over_10_mib_is_413_before_the_body_is_read(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        declared = upload(client, alice, b"\0" * (10 * 1024 * 1024 + 1), key=trade_id)
        assert declared.status_code == 413
        assert declared.json()["detail"] == (
            "the body is 10485761 bytes; POST /api/attachments takes at most 10485760 bytes"
        )
        # Chunked (no Content-Length), through the ASGI app itself: count what it reads.
        sent, answer = [0], []
        authorization = alice["Authorization"].encode()
        scope = {"type": "http", "method": "POST", "path": "/api/attachments", "raw_path": b"/api/attachments",
                 "query_string": f"target=trade&key={trade_id}".encode(), "root_path": "", "scheme": "http",
                 "server": ("testserver", 80), "client": ("testclient", 1), "http_version": "1.1",
                 "headers": [(b"host", b"testserver"), (b"content-type", b"image/png"),
                             (b"authorization", authorization)], "app": client.app}  # fmt: skip

        async def receive() -> dict[str, object]:
            sent[0] += 1
            return {
                "type": "http.request",
                "body": b"\x89PNG" + b"\0" * (1024 * 1024),
                "more_body": sent[0] < 64,
            }

        async def send(message: dict[str, object]) -> None:
            answer.append(message)

        anyio.run(client.app, scope, receive, send)  # type: ignore[arg-type]
        assert answer[0]["status"] == 413
        assert orjson.loads(answer[1]["body"])["detail"] == (  # type: ignore[arg-type]
            "the body is over 10485760 bytes; POST /api/attachments takes at most 10485760 bytes"
        )
        assert sent[0] == 10  # the 10th MiB-and-a-bit chunk passes the limit: nothing more is read
        assert files_of(client) == []

    def test_an_unknown_target_or_bad_key_is_422(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        bad_day = upload(client, alice, images.png(), target="day", key="2024-02-30")
        assert (bad_day.status_code, bad_day.json()["detail"]) == (
            422,
            "key: '2024-02-30' is not a day (YYYY-MM-DD)",
        )
        bad_trade = upload(client, alice, images.png(), target="trade", key="abc")
        assert (bad_trade.status_code, bad_trade.json()["detail"]) == (
            422,
            "key: 'abc' is not a trade id",
        )
        missing = upload(client, alice, images.png(), target="trade", key=trade_id + 1000)
        assert (missing.status_code, missing.json()["detail"]) == (
            404,
            f"trade {trade_id + 1000} not found",
        )


class TestOwnership:
    def test_another_user_gets_404_everywhere(
        self, client: TestClient, alice: dict[str, str], bob: dict[str, str], trade_id: int
    ) -> None:
        attachment_id = created(upload(client, alice, images.png(), key=trade_id))["id"]
        refused = upload(client, bob, images.png(), key=trade_id)
        assert (refused.status_code, refused.json()["detail"]) == (
            404,
            f"trade {trade_id} not found",
        )
        listed = client.get(
            "/api/attachments", params={"target": "trade", "key": trade_id}, headers=bob
        )
        assert listed.status_code == 404
        for path in (
            f"/api/attachments/{attachment_id}/file",
            f"/api/attachments/{attachment_id}/thumbnail",
        ):
            response = client.get(path, headers=bob)
            assert (response.status_code, response.json()["detail"]) == (
                404,
                f"attachment {attachment_id} not found",
            )
        assert client.delete(f"/api/attachments/{attachment_id}", headers=bob).status_code == 404
        assert (
            client.get(f"/api/attachments/{attachment_id}/file", headers=alice).status_code == 200
        )
        # bob's days are his own: the same day of his holds none of alice's
        created(upload(client, alice, images.png(), target="day", key="2024-01-02"))
        days = client.get(
            "/api/attachments", params={"target": "day", "key": "2024-01-02"}, headers=bob
        )
        assert days.json() == []

    def test_the_files_need_the_bearer_token(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        attachment_id = created(upload(client, alice, images.png(), key=trade_id))["id"]
        assert client.get(f"/api/attachments/{attachment_id}/file").status_code == 401


class TestRemoval:
    def test_delete_removes_the_row_and_its_files_and_tells_the_stream(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        keep = created(upload(client, alice, images.png(), key=trade_id))["id"]
        gone = created(upload(client, alice, images.jpeg(), key=trade_id))["id"]
        token = alice["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as ws:
            assert ws.receive_json()["type"] == "hello"
            assert client.delete(f"/api/attachments/{gone}", headers=alice).status_code == 204
            assert ws.receive_json() == {
                "type": "journal_changed",
                "target": "attachment",
                "key": f"trade:{trade_id}",
            }
        assert files_of(client) == [f"{keep}.png", f"{keep}.thumb.webp"]
        assert client.get(f"/api/attachments/{gone}/file", headers=alice).status_code == 404
        assert client.delete(f"/api/attachments/{gone}", headers=alice).status_code == 404

    def test_a_runs_and_a_playbooks_files_go_with_them(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        context = app_context(client)
        with context.db.session(write=True) as session:
            playbook = Playbook(user_id=1, name="Opening range")
            session.add(playbook)
            session.flush()
            playbook_id = playbook.id
        on_trade = created(upload(client, alice, images.png(), key=trade_id))["id"]
        on_playbook = created(
            upload(client, alice, images.png(), target="playbook", key=playbook_id)
        )["id"]
        on_day = created(upload(client, alice, images.png(), target="day", key="2024-01-02"))["id"]
        assert len(files_of(client)) == 6
        with context.db.session(write=True) as session:
            session.execute(delete(Playbook).where(Playbook.id == playbook_id))
            session.execute(delete(StrategyRun))
        assert sweep(context.db, context.settings.data_dir, [1]) == 4
        assert files_of(client) == [f"{on_day}.png", f"{on_day}.thumb.webp"]
        with context.db.session() as session:
            assert [a.id for a in session.query(Attachment)] == [on_day]
        assert {on_trade, on_playbook}.isdisjoint({on_day})

    def test_files_whose_rows_went_while_stopped_are_swept_at_start(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        attachment_id = created(upload(client, alice, images.png(), key=trade_id))["id"]
        folder = data_dir(client) / "attachments" / "1"
        (folder / "999.png").write_bytes(b"left over")  # a row that no longer exists
        (folder / "notes.txt").write_bytes(b"not ours")  # not an attachment's name: kept
        app_context(client).start()  # what a restart runs
        assert files_of(client) == [
            f"{attachment_id}.png",
            f"{attachment_id}.thumb.webp",
            "notes.txt",
        ]


class TestRemovedWithTheirOwner:
    def test_deleting_a_playbook_or_a_journal_day_removes_their_files(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        made = client.post("/api/playbooks", json={"name": "Opening range"}, headers=alice)
        assert made.status_code == 201, made.text
        playbook_id = made.json()["id"]
        on_playbook = created(
            upload(client, alice, images.png(), target="playbook", key=playbook_id)
        )["id"]
        written = client.put(
            "/api/journal/days/2024-01-02", json={"review": "patient"}, headers=alice
        )
        assert written.status_code == 200, written.text
        on_day = created(upload(client, alice, images.png(), target="day", key="2024-01-02"))["id"]
        on_trade = created(upload(client, alice, images.png(), key=trade_id))["id"]
        assert len(files_of(client)) == 6

        assert client.delete(f"/api/playbooks/{playbook_id}", headers=alice).status_code == 204
        assert files_of(client) == sorted([f"{on_day}.png", f"{on_day}.thumb.webp",
                                           f"{on_trade}.png", f"{on_trade}.thumb.webp"])  # fmt: skip
        assert client.get(f"/api/attachments/{on_playbook}/file", headers=alice).status_code == 404

        assert client.delete("/api/journal/days/2024-01-02", headers=alice).status_code == 204
        assert files_of(client) == [f"{on_trade}.png", f"{on_trade}.thumb.webp"]
        assert (
            client.get(
                "/api/attachments", params={"target": "day", "key": "2024-01-02"}, headers=alice
            ).json()
            == []
        )

    def test_deleting_a_day_with_attachments_but_no_entry_removes_them(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        on_day = created(upload(client, alice, images.png(), target="day", key="2024-01-03"))["id"]
        assert files_of(client) == [f"{on_day}.png", f"{on_day}.thumb.webp"]
        assert client.delete("/api/journal/days/2024-01-03", headers=alice).status_code == 204
        assert files_of(client) == []
        again = client.delete("/api/journal/days/2024-01-03", headers=alice)
        assert (again.status_code, again.json()["detail"]) == (
            404,
            "no journal entry or attachment for 2024-01-03",
        )

    def test_removing_the_demo_data_removes_its_trades_files(
        self, client: TestClient, alice: dict[str, str], trade_id: int
    ) -> None:
        key = {"Authorization": f"Bearer {create_api_key(client, alice, scopes=('ingest',))}"}
        events = [fill("d1", "2024-01-03T10:00:10Z", "buy", 1, 10.0, symbol="DEMO"),
                  fill("d2", "2024-01-03T10:00:50Z", "sell", 1, 12.0, symbol="DEMO")]  # fmt: skip
        push(
            client,
            key,
            batch(
                events, source="demo", run={"key": "demo", "strategy": "Demo", "mode": "backtest"}
            ),
        )
        assert app_context(client).ingest.derivations.wait_idle()
        demo_trade = next(
            t["id"]
            for t in client.get("/api/trades", headers=alice).json()["items"]
            if t["symbol"] == "DEMO"
        )
        on_demo = created(upload(client, alice, images.png(), key=demo_trade))["id"]
        kept = created(upload(client, alice, images.png(), key=trade_id))["id"]
        assert len(files_of(client)) == 4
        assert client.delete("/api/demo", headers=alice).status_code == 200
        assert files_of(client) == [f"{kept}.png", f"{kept}.thumb.webp"]
        assert client.get(f"/api/attachments/{on_demo}/file", headers=alice).status_code == 404


class TestRowAndFileAgree:
    def test_a_transaction_that_does_not_commit_leaves_no_file(
        self,
        client: TestClient,
        alice: dict[str, str],
        trade_id: int,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        context = app_context(client)

        def fail(_row: Attachment) -> None:  # after the files are renamed into place
            raise RuntimeError("the commit did not happen")

        monkeypatch.setattr(service, "to_read", fail)
        with pytest.raises(RuntimeError, match="the commit did not happen"):
            service.create(
                context.db, context.settings.data_dir, 1, "trade", str(trade_id), images.png(), None
            )
        assert files_of(client) == []
        with context.db.session() as session:
            assert session.query(Attachment).count() == 0
