"""Request guards that apply to every endpoint alike, as a pure ASGI middleware.

NUL characters: PostgreSQL cannot store them in text, SQLite would, and bcrypt
refuses them in passwords. So that every path gives the same answer, a request
whose path, query, JSON or form body holds one is refused with 422 before any
endpoint runs. `/api/ingest` is left
to its own decoder, which rejects just the events that hold one (docs/ingest.md).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import error_body
from backend.ingest.decode import has_nul

NUL_DETAIL = "text must not contain NUL (\\u0000) characters"
_OWN_DECODER = ("/api/ingest", "/api/import")
_MAX_CHECKED_BODY = 1024 * 1024  # bigger bodies are not buffered here


class RejectNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        where = _nul_in_url(scope)
        if where is not None:
            await _refuse(scope, send, where)
            return
        kind = _body_kind(scope)
        if scope["type"] != "http" or scope["path"] in _OWN_DECODER or kind is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
            if size > _MAX_CHECKED_BODY:
                break
        body = b"".join(m.get("body", b"") for m in messages)
        if _body_has_nul(body, kind):
            await _refuse(scope, send, "body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return "query"
    return None


def _body_has_nul(body: bytes, kind: str) -> bool:
    if kind == "form":
        return b"\x00" in unquote_to_bytes(body)
    if b"\\u0000" not in body:
        return False
    try:  # `\\u0000` in the bytes may be an escaped backslash; only the decoded text can say
        return has_nul(orjson.loads(body))
    except ValueError:
        return False  # not JSON: the endpoint refuses it with its own message


def _body_kind(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            value = value.lower()
            if b"json" in value:
                return "json"
            if b"x-www-form-urlencoded" in value:
                return "form"
    return None


async def _refuse(scope: Scope, send: Send, where: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4400, "reason": f"{where}: {NUL_DETAIL}"})
        return
    body = orjson.dumps(error_body("invalid_payload", f"{where}: {NUL_DETAIL}"))
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
        }
    )  # fmt: skip
    await send({"type": "http.response.body", "body": body})
