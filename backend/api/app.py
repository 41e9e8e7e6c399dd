"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from backend import __version__
from backend.api.context import AppContext
from backend.api.docs import install_docs
from backend.api.errors import install_error_handlers
from backend.api.guards import RejectNul
from backend.api.headers import install_security_headers, wrap_outermost
from backend.api.limits import BodyLimit
from backend.api.routers import ROUTERS
from backend.api.static import install_dashboard
from backend.config import Settings, get_settings
from backend.ingest.router import BATCH_SCHEMAS
from backend.observability.middleware import RequestIdMiddleware


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    """Build the app. The database must already be migrated (`run_server.py` does it)."""
    settings = settings or (context.settings if context else get_settings())
    app_context = context or AppContext.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        app_context.start()
        try:
            yield
        finally:
            app_context.stop()

    app = FastAPI(
        title="Fillbook",
        version=__version__,
        description="Trade journal and strategy analytics: push fills, get trades and metrics.",
        lifespan=lifespan,
        docs_url=None,  # backend/api/docs.py serves /docs from this origin; no /redoc
        redoc_url=None,
    )
    app.state.context = app_context
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(RejectNul)
    if "*" not in settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(BodyLimit)  # outside RejectNul, which buffers bodies to search them
    install_security_headers(app)  # around everything, Starlette's 500 handler included
    # Outermost of all: every log line has the id, and every answer (a 500 included) too.
    wrap_outermost(app, RequestIdMiddleware)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    _register_extra_schemas(app)
    install_docs(app)
    install_dashboard(app)  # last: it answers every GET the routers above do not
    return app


def _register_extra_schemas(app: FastAPI) -> None:
    """Add the ingest batch schema (validated from raw bytes, not a body model) to OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(BATCH_SCHEMAS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
