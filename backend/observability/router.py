"""GET /metrics: Prometheus text, for a scraper holding METRICS_TOKEN or an ADMIN's token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from backend.api.deps import ContextDep, SessionDep
from backend.auth.deps import authenticate, bearer
from backend.errors import Forbidden
from backend.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["observability"])


def require_scraper(
    context: ContextDep, session: SessionDep, credential: Annotated[str | None, Depends(bearer)]
) -> None:
    """The metrics token (a scraper's secret) or an ADMIN's access token; 401/403 otherwise."""
    token = context.settings.metrics_token
    if token is not None and credential is not None:
        if hmac.compare_digest(credential.encode(), token.get_secret_value().encode()):
            return
    principal = authenticate(context, session, credential)
    if not principal.is_admin or principal.api_key_id is not None:
        raise Forbidden("metrics need METRICS_TOKEN or an ADMIN's access token")


@router.get(
    "/metrics",
    operation_id="metrics",
    dependencies=[Depends(require_scraper)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
def metrics(context: ContextDep) -> Response:
    """Prometheus metrics of this process: ingest, rebuilds, stream clients, training jobs."""
    return Response(context.metrics.render(), media_type=CONTENT_TYPE)
