from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from backend.api.deps import ContextDep
from backend.auth.deps import CanIngest
from backend.errors import AppError
from backend.ingest.progress import DerivationState
from backend.ingest.schemas import BatchAdapter

router = APIRouter(prefix="/api", tags=["ingest"])


class RejectedItem(BaseModel):
    index: int
    id: str | None
    error: str


class IngestResult(BaseModel):
    run_id: int
    accepted: int
    duplicates: int
    rejected: list[RejectedItem]
    derivation: DerivationState | None = None  # only with ?wait=derived: the touched positions


MAX_WAIT_SECONDS = 60.0


_BATCH_SCHEMA = BatchAdapter.json_schema(ref_template="#/components/schemas/{model}")
BATCH_SCHEMAS: dict[str, Any] = {
    "IngestBatch": {k: v for k, v in _BATCH_SCHEMA.items() if k != "$defs"}
}
BATCH_SCHEMAS.update(_BATCH_SCHEMA.get("$defs", {}))
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/IngestBatch"}},
            "application/msgpack": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/ingest",
    operation_id="ingest",
    openapi_extra=_BODY,
    responses={400: {}, 401: {}, 413: {}, 415: {}, 422: {}},
    response_model_exclude_unset=True,  # `derivation` only when ?wait=derived asked for it
)
async def ingest(
    request: Request,
    principal: CanIngest,
    context: ContextDep,
    wait: Annotated[
        Literal["derived"] | None,
        Query(description="`derived`: answer once the trades this batch touched are rebuilt"),
    ] = None,
    wait_seconds: Annotated[
        float,
        Query(alias="timeout", gt=0, le=MAX_WAIT_SECONDS, description="the most seconds to wait"),
    ] = 10.0,
) -> IngestResult:
    """Push a batch of events (docs/ingest.md): JSON or MessagePack, up to 10,000 events."""
    metrics, started = context.metrics, time.perf_counter()
    try:
        result = IngestResult.model_validate(
            await context.ingest.ingest(
                request, principal.user_id, wait_derived=wait_seconds if wait else None
            )
        )
    except AppError as exc:
        metrics.ingest_batches.labels(str(exc.status_code)).inc()
        raise
    metrics.batch_seconds.observe(time.perf_counter() - started)
    metrics.ingest_batches.labels("200").inc()
    metrics.count_batch(result.accepted, result.duplicates, len(result.rejected))
    return result
