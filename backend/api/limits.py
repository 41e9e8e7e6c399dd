"""Request bodies bounded before anything reads them, per route, in the ASGI layer.

FastAPI reads a JSON or form body before the endpoint's dependencies run, so
neither authentication nor an endpoint's own check can stop a client from
sending gigabytes (multipart files spool to /tmp, even at login). This
middleware refuses a body over its route's limit with 413: at once when
`Content-Length` says so, else as soon as the bytes read pass it. Routes that
take large uploads are authenticated here first, so that nobody without
credentials gets to send one.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import error_body
from backend.errors import AppError

KIB, MIB = 1024, 1024 * 1024
AUTH_BODY_BYTES = 64 * KIB  # register, login, profile, API keys
DEFAULT_BODY_BYTES = 1 * MIB  # every other JSON body (journal edits, settings)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a prefix when it ends with "/"
    limit: int
    authenticate_first: bool = False
    scope: str | None = None  # what an API key needs here, checked with the credential

    def matches(self, method: str, path: str) -> bool:
        if method != self.method:
            return False
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


def routes() -> tuple[Route, ...]:
    """The routes with limits of their own (the rest get DEFAULT_BODY_BYTES)."""
    from backend.attachments.service import MAX_BYTES as MAX_ATTACHMENT_BYTES
    from backend.backtests.service import MAX_UPLOAD_BYTES
    from backend.imports.service import MAX_UPLOAD_BYTES as MAX_IMPORT_UPLOAD_BYTES
    from backend.ingest.schemas import MAX_BODY_BYTES
    from backend.journal.router import MAX_IMPORT_BYTES

    return (
        Route("POST", "/api/ingest", MAX_BODY_BYTES),
        Route("POST", "/api/backtests", MAX_UPLOAD_BYTES + MIB, authenticate_first=True,
              scope="backtests"),  # fmt: skip
        Route("POST", "/api/import", MAX_IMPORT_BYTES),
        Route("POST", "/api/attachments", MAX_ATTACHMENT_BYTES, authenticate_first=True,
              scope="write:journal"),  # fmt: skip
        Route("POST", "/api/imports", MAX_IMPORT_UPLOAD_BYTES, authenticate_first=True,
              scope="ingest"),  # fmt: skip
        Route("POST", "/api/auth/", AUTH_BODY_BYTES),
        Route("PATCH", "/api/auth/", AUTH_BODY_BYTES),
        Route("POST", "/api/webhooks", AUTH_BODY_BYTES),
        Route("PATCH", "/api/webhooks/", AUTH_BODY_BYTES),
    )


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = routes()

    def route(self, method: str, path: str) -> Route:
        for route in self.routes:
            if route.matches(method, path):
                return route
        return Route(method, path, DEFAULT_BODY_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.route(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > route.limit:
            await _answer(send, 413, "payload_too_large", _too_large(route, declared))
            return
        if route.authenticate_first:
            problem = await _authentication_problem(scope, route.scope)
            if problem is not None:
                await _answer(send, problem.status_code, problem.code, problem.detail)
                return
        size = 0
        started = False

        async def bounded() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > route.limit:
                    raise _TooLarge
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watch)
        except _TooLarge:
            if started:
                raise
            await _answer(send, 413, "payload_too_large", _too_large(route, None))


def _too_large(route: Route, sent: int | None) -> str:
    size = f"{sent} bytes" if sent is not None else f"over {route.limit} bytes"
    return f"the body is {size}; {route.method} {route.path} takes at most {route.limit} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _authentication_problem(scope: Scope, required: str | None) -> AppError | None:
    """Authenticate the request's bearer credential (and an API key's scope) before its
    body is read."""
    from backend.auth.deps import authenticate, scope_refusal
    from backend.auth.scopes import Scope as KeyScope
    from backend.errors import Forbidden

    credential = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            credential = token.strip() if scheme.lower() == "bearer" else None
    context = scope["app"].state.context

    def check() -> None:
        with context.db.session() as session:
            principal = authenticate(context, session, credential)
        refusal = None if required is None else scope_refusal(principal, KeyScope(required))
        if refusal is not None:
            raise Forbidden(refusal)

    try:
        await run_in_threadpool(check)
    except AppError as exc:
        return exc
    return None


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = orjson.dumps(error_body(code, detail))
    # No `Connection: close`: the server then reads and drops the rest of the body, so a
    # client still writing it gets to read this answer instead of a reset connection.
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
