from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from backend.api.deps import ContextDep, SessionDep
from backend.auth.deps import CanRead
from backend.market import service
from backend.market.schemas import BarsColumnarRead, BarsParams, BarsRead

router = APIRouter(prefix="/api", tags=["market"])

_MSGPACK: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/msgpack": {
                "schema": {"$ref": "#/components/schemas/BarsColumnarRead"},
            }
        }
    },
    401: {},
    404: {},
    422: {},
}


@router.get(
    "/bars",
    operation_id="list_bars",
    response_model=BarsRead | BarsColumnarRead,
    responses=_MSGPACK,
)
def list_bars(
    params: Annotated[BarsParams, Query()],
    principal: CanRead,
    context: ContextDep,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The caller's bars of a symbol at any timeframe, aggregated from finer bars if needed."""
    return service.render(
        service.list_bars(context, session, principal.user_id, params), params.format, accept
    )
