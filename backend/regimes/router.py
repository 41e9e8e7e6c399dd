from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import SessionDep
from backend.auth.deps import CanRead
from backend.regimes import service
from backend.regimes.schemas import RegimeTimelineRead, TimelineParams

router = APIRouter(prefix="/api/regimes", tags=["regimes"])


@router.get(
    "/timeline",
    operation_id="regime_timeline",
    response_model=RegimeTimelineRead,
    responses={401: {}, 404: {}, 422: {}},
)
def timeline(
    params: Annotated[TimelineParams, Query()], principal: CanRead, session: SessionDep
) -> RegimeTimelineRead:
    """The caller's market regimes of a symbol as segments; each from bars closed before it."""
    return service.timeline(session, principal.user_id, params)
