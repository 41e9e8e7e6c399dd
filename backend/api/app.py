"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from backend import __version__
from backend.api.context import AppContext
from backend.api.errors import install_error_handlers
from backend.api.routers import ROUTERS
from backend.config import Settings, get_settings


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    """Build the app. The database must already be migrated (`run_server.py` does it)."""
    settings = settings or (context.settings if context else get_settings())
    app_context = context or AppContext.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            app_context.db.dispose()

    app = FastAPI(
        title="Fillbook",
        version=__version__,
        description="Trade journal and strategy analytics: push fills, get trades and metrics.",
        lifespan=lifespan,
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
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
