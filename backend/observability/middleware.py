"""X-Request-ID: the client's when sane, else generated; echoed; in every log line."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.observability.logs import request_id

HEADER = "x-request-id"
# A client's id is kept only if it cannot forge log lines or headers.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope.get("headers", ()) if k == HEADER.encode()), b"")
        given = sent.decode("latin-1")
        rid = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Not in a `finally`: an unhandled error is logged by the outermost middleware
        # after this one returns, and that line must still name the request.
        request_id.reset(token)
