"""Serving the built dashboard (`frontend/dist`) at `/`, with a fallback for client routes.

A GET for a file of the bundle returns it (hashed `assets/` cached for a year);
any other path that is not the API's (`/api`, `/docs`, `/redoc`, `/openapi.json`)
returns `index.html`, so a reload on `/trades/42` lands on the right page.
Registered after every router, so it never shadows one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor

DIST_DIR = Path(__file__).resolve().parents[2] / "frontend" / "dist"
RESERVED = ("api", "docs", "redoc", "openapi.json")
NOT_BUILT = (
    "<!doctype html><title>Fillbook</title><p>The dashboard is not built. "
    "<code>make run</code> builds it, or run <code>npm ci &amp;&amp; npm run build</code> "
    "in <code>frontend/</code> (the API docs page at /docs comes with that build). "
    "The API is up: its schema is at <a href='/openapi.json'>/openapi.json</a>.</p>"
)


class DashboardPath(Convertor[str]):
    """Any path outside the reserved ones: those never reach the dashboard route, so an
    unknown `/api/...` stays a JSON 404 for every method, as if the route did not exist."""

    regex = r"(?!(?:api|docs|redoc|openapi\.json)(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("dashboard", DashboardPath())


def is_reserved(path: str) -> bool:
    """Paths the dashboard must never answer: the API, its docs and its schema."""
    first = path.strip("/").split("/", 1)[0]
    return first in RESERVED


def resolve(dist: Path, path: str) -> Path | None:
    """The bundle file `path` names, or None (missing, a folder, or outside `dist`)."""
    if not path:
        return None
    candidate = (dist / path).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def install_dashboard(app: FastAPI, dist: Path | None = None) -> None:
    """Serve `dist` (default `frontend/dist`) at `/` with the single-page-app fallback."""
    dist = dist or DIST_DIR

    @app.get("/{path:dashboard}", include_in_schema=False)
    def dashboard(path: str) -> Response:
        index = dist / "index.html"
        file = resolve(dist, path)
        if file is not None:
            immutable = file.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(file, headers={"Cache-Control": cache})
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
