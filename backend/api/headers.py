"""Security headers on every response, as a pure ASGI middleware around the whole app.

- `Content-Security-Policy`: an HTML document (the dashboard, the API docs page) may load
  scripts, styles, fonts and data only from this origin; images also from `data:` and
  `blob:` URLs (the favicon is `data:,`; charts may draw into blobs). `connect-src 'self'`
  covers the live stream too: under CSP level 3, `'self'` also matches `ws:`/`wss:` to
  this host, and no other host. Every other response (JSON, files, errors) gets
  `default-src 'none'`: nothing it holds can run as a page.
- `frame-ancestors 'none'` and `X-Frame-Options: DENY`: no page may frame this origin
  (clickjacking), for browsers of either generation.
- `X-Content-Type-Options: nosniff`: a response is only what its content type says.
- `Referrer-Policy: no-referrer`: URLs (run and trade ids) never leave in a `Referer`.

A response that sets one of these itself keeps its own (`/docs` has a policy of its own).
`install_security_headers` wraps the stack Starlette builds, outside its
`ServerErrorMiddleware`, so even an unhandled error's 500 carries the headers.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCUMENT_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
OTHER_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
FIXED_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def policy_for(content_type: str) -> str:
    """The Content-Security-Policy of a response with this content type."""
    return DOCUMENT_CSP if content_type.lower().startswith("text/html") else OTHER_CSP


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FIXED_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = policy_for(headers.get("content-type", ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI) -> None:
    """Put `SecurityHeaders` outside every other layer of `app`, its 500 handler included."""
    wrap_outermost(app, SecurityHeaders)


def wrap_outermost(app: FastAPI, layer: Callable[[ASGIApp], ASGIApp]) -> None:
    """Put `layer` outside every layer `app` has so far, Starlette's 500 handler included
    (`add_middleware` puts it inside that handler, so a 500 would go out without it)."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        return layer(build())

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]
