"""The one list of routers the app serves."""

from __future__ import annotations

from fastapi import APIRouter

from backend.accounts import router as accounts
from backend.analytics import router as analytics
from backend.api import health
from backend.attachments import router as attachments
from backend.auth import router as auth
from backend.backtests import router as backtests
from backend.daily import router as daily
from backend.downloads import router as downloads
from backend.imports import router as imports
from backend.ingest import router as ingest
from backend.journal import router as journal
from backend.market import router as market
from backend.observability import router as observability
from backend.playbooks import router as playbooks
from backend.regimes import router as regimes
from backend.runs import router as runs
from backend.stream import router as stream
from backend.trades import router as trades
from backend.training import router as training
from backend.webhooks import router as webhooks

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    auth.admin_router,
    ingest.router,
    market.router,
    regimes.router,
    runs.router,
    stream.router,
    trades.router,
    analytics.router,
    backtests.router,
    training.router,
    observability.router,
    journal.router,
    playbooks.router,
    daily.router,
    attachments.router,
    downloads.router,
    accounts.router,
    webhooks.router,
    imports.router,
]
