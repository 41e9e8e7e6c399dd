"""Hostile bodies on /api/ingest over real HTTP: a clean 4xx each, and the process stays healthy."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgpack
import orjson
import pytest

from tests.live_server import Account, LiveServer

ENVELOPE = {"source": "s", "run": {"key": "k", "strategy": "st", "mode": "paper"}}
MSGPACK = {"Content-Type": "application/msgpack"}
JSON = {"Content-Type": "application/json"}


def _msgpack_body(events_blob: bytes) -> bytes:
    """An envelope whose `events` value is the raw MessagePack `events_blob`."""
    head = msgpack.packb({"source": "s", "run": ENVELOPE["run"]})
    assert head[0] == 0x82  # fixmap of 2: make it 3 and append the events entry
    return bytes([0x83]) + head[1:] + msgpack.packb("events") + events_blob


DEEP = 100_000
CASES: dict[str, tuple[bytes, dict[str, str], set[int]]] = {
    "oversized body": (b"{" + b" " * (17 * 1024 * 1024) + b"}", JSON, {413}),
    "deeply nested JSON array": (b"[" * DEEP + b"]" * DEEP, JSON, {400, 422}),
    "deeply nested JSON in params": (
        orjson.dumps({**ENVELOPE, "events": []})[:-1].replace(b'"paper"}', b'"paper","params":{"a":')
        + b"[" * DEEP + b"]" * DEEP + b"}},\"events\":[]}", JSON, {400, 422}),
    "deeply nested JSON in an event": (
        b'{"source":"s","run":{"key":"k","strategy":"st","mode":"paper"},"events":['
        + b'{"type":"bar","values":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}]}", JSON,
        {200, 400, 422}),
    "huge string": (orjson.dumps({**ENVELOPE, "source": "x" * (15 * 1024 * 1024), "events": []}),
                    JSON, {422}),
    "huge event id": (orjson.dumps({**ENVELOPE, "events": [
        {"type": "execution", "id": "x" * 5_000_000, "ts": 1_700_000_000_000_000_000,
         "symbol": "S", "side": "buy", "qty": 1, "price": 1}]}), JSON, {200}),
    "invalid UTF-8": (b'{"source":"\xff\xfe\xfd","run":{"key":"k","strategy":"st","mode":"paper"},"events":[]}',
                      JSON, {400}),
    "invalid UTF-8 in MessagePack": (b"\x83\xa6source\xa3\xff\xfe\xfd", MSGPACK, {400}),
    "too many events": (orjson.dumps({**ENVELOPE, "events": [{"type": "run_end"}] * 10_001}),
                        JSON, {413}),
    "not an object": (b"[1, 2, 3]", JSON, {422}),
    "empty body": (b"", JSON, {400}),
    "NaN and huge numbers": (b'{"source":"s","run":{"key":"k","strategy":"st","mode":"paper"},"events":['
                             b'{"type":"execution","id":"n","ts":1700000000000000000,"symbol":"S",'
                             b'"side":"buy","qty":1e400,"price":NaN}]}', JSON, {200, 400}),
    "integer beyond 64 bits": (b'{"source":"s","run":{"key":"k","strategy":"st","mode":"paper"},"events":['
                               b'{"type":"run_end","ts":' + b"9" * 400 + b"}]}", JSON, {200, 400}),
    "msgpack array32 claiming 4 billion items": (_msgpack_body(b"\xdd\xff\xff\xff\xff"), MSGPACK, {400}),
    "msgpack map32 claiming 4 billion pairs": (_msgpack_body(b"\xdf\xff\xff\xff\xff"), MSGPACK, {400}),
    "msgpack str32 claiming 4 GiB": (_msgpack_body(b"\xdb\xff\xff\xff\xff" + b"a" * 10), MSGPACK, {400}),
    "msgpack bin32 claiming 4 GiB": (_msgpack_body(b"\xc6\xff\xff\xff\xff"), MSGPACK, {400}),
    "msgpack ext32 claiming 4 GiB": (_msgpack_body(b"\xc9\xff\xff\xff\xff\x01"), MSGPACK, {400}),
    "msgpack deep nesting": (_msgpack_body(b"\x91" * DEEP + b"\xc0"), MSGPACK, {400, 422}),
    "msgpack many small arrays declared": (
        _msgpack_body(b"\xdc\xff\xff" + b"\xdc\xff\xff" * 1000), MSGPACK, {400}),
    "msgpack trailing garbage": (msgpack.packb({**ENVELOPE, "events": []}) + b"\xc1", MSGPACK, {400}),
    "msgpack bytes, ext and timestamp in events": (msgpack.packb({**ENVELOPE, "events": [
        {"type": "execution", "id": b"\x00\xff", "ts": msgpack.Timestamp(1, 0), "symbol": "S",
         "side": "buy", "qty": 1, "price": 1, "x": msgpack.ExtType(5, b"zz")},
        {"type": b"bar", struct.pack(">I", 7): 1}, [1, 2], None,
    ]}), MSGPACK, {200}),
    "msgpack non-string map keys": (msgpack.packb({**ENVELOPE, "events": [
        {1: 2, 3.5: "x", None: True, "type": "order"}]}), MSGPACK, {200}),
    "msgpack envelope is a bytes blob": (msgpack.packb(b"\x00" * 1000), MSGPACK, {422}),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(Path(tmp_path_factory.mktemp("abuse"))) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> Account:
    return server.create_account("mallory")


class TestHostileBodies:
    @pytest.mark.parametrize("name", list(CASES))
    def test_a_clean_4xx_and_a_healthy_process(
        self, server: LiveServer, account: Account, name: str
    ) -> None:
        body, headers, expected = CASES[name]
        response = httpx.post(f"{server.url}/api/ingest", content=body,
                              headers={**account.ingest_headers, **headers}, timeout=60)  # fmt: skip
        assert response.status_code in expected, f"{name}: {response.status_code} {response.text[:300]}"
        document = response.json()
        if response.status_code != 200:
            assert document["error"], document
            assert document["detail"], document
        assert len(response.content) < 100_000  # errors do not echo the payload back
        assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
        assert server.running

    def test_rejected_raw_forms_are_stored_and_readable(
        self, server: LiveServer, account: Account
    ) -> None:
        """The dead letters of the odd MessagePack events read back as JSON."""
        response = httpx.get(f"{server.url}/api/rejected-events", headers=account.headers,
                             params={"limit": 500}, timeout=30)  # fmt: skip
        assert response.status_code == 200, response.text
        raws = [orjson.loads(item["raw"]) for item in response.json()["items"]]
        assert {"type": "execution", "id": "0x00ff", "ts": "Timestamp(seconds=1, nanoseconds=0)",
                "symbol": "S", "side": "buy", "qty": 1, "price": 1,
                "x": "ExtType(code=5, data=b'zz')"} in raws  # fmt: skip
        assert {"type": "0x626172", "0x00000007": 1} in raws
        assert {"1": 2, "3.5": "x", "null": True, "type": "order"} in raws
        assert "Traceback" not in server.log()
