"""The API docs page (`/docs`): Swagger UI from this origin only.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script. This
origin's localStorage holds the dashboard's login token, so a script from anywhere else
could read it. Here the page loads the files that `npm run build` copies from the
`swagger-ui-dist` package into `frontend/dist/swagger/` (frontend/vite.config.ts) and a
start-up script of its own, all from this origin, under a policy that allows nothing
else. ReDoc is not served (`/redoc` is a 404). `create_app` turns FastAPI's pages off.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from backend.api import static
from backend.errors import NotFound

DOCS_URL = "/docs"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
INIT_SCRIPT = "swagger-init.js"
# Swagger UI's stylesheet draws its icons as `data:` SVG images; everything else is 'self'.
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
NOT_BUILT = (
    "<!doctype html><title>Fillbook API</title><p>The API docs page needs the dashboard "
    "build, which brings Swagger UI: <code>make run</code> builds it, or run "
    "<code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>. "
    "The schema is at <a href='/openapi.json'>/openapi.json</a>.</p>"
)


def docs_page(title: str) -> str:
    """The HTML of `/docs`: Swagger UI's stylesheet and scripts, nothing inline."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{html.escape(title)} - Swagger UI</title>\n<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="{DOCS_URL}/swagger-ui.css">\n</head>\n<body>\n'
        '<div id="swagger-ui"></div>\n'
        f'<script src="{DOCS_URL}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{DOCS_URL}/{INIT_SCRIPT}"></script>\n</body>\n</html>\n'
    )


def init_script(openapi_url: str) -> str:
    """Start Swagger UI on the app's schema (FastAPI's settings, without the validator
    badge, which is an image from validator.swagger.io)."""
    config = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "validatorUrl": None,
    }
    return (
        f"const config = {json.dumps(config)};\n"
        "config.presets = [\n"
        "  SwaggerUIBundle.presets.apis,\n"
        "  SwaggerUIBundle.SwaggerUIStandalonePreset,\n"
        "];\n"
        "window.ui = SwaggerUIBundle(config);\n"
    )


def install_docs(app: FastAPI, dist: Path | None = None) -> None:
    """Serve `/docs` and its files from `dist/swagger` (default `frontend/dist/swagger`)."""
    folder = (dist or static.DIST_DIR) / "swagger"
    headers = {"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}
    openapi_url = app.openapi_url or "/openapi.json"

    def built() -> bool:
        return all((folder / name).is_file() for name in ASSETS)

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> Response:
        if not built():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return HTMLResponse(docs_page(app.title), headers=headers)

    @app.get(f"{DOCS_URL}/{INIT_SCRIPT}", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(
            init_script(openapi_url), media_type="text/javascript; charset=utf-8",
            headers=headers,
        )  # fmt: skip

    for name, media_type in ASSETS.items():
        _serve_asset(app, folder / name, media_type, headers)


def _serve_asset(app: FastAPI, path: Path, media_type: str, headers: dict[str, str]) -> None:
    @app.get(f"{DOCS_URL}/{path.name}", include_in_schema=False, name=f"docs-{path.name}")
    def asset() -> Response:
        if not path.is_file():
            raise NotFound(f"{path.name} is not built: run `npm run build` in frontend/")
        return FileResponse(path, media_type=media_type, headers=headers)
