"""GET /api/export and POST /api/import: the caller's whole journal as JSON lines."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ContextDep
from backend.auth.deps import CurrentUser
from backend.ingest.service import read_body
from backend.journal import service

router = APIRouter(prefix="/api", tags=["journal"])

MEDIA_TYPE = "application/x-ndjson"
MAX_IMPORT_BYTES = 512 * 1024 * 1024


class ImportRead(BaseModel):
    runs: int
    accepted: int
    duplicates: int
    rejected: list[str]
    dead_letters: int
    annotations: int


@router.get(
    "/export",
    operation_id="export_journal",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def export_journal(user: CurrentUser, context: ContextDep) -> StreamingResponse:
    """The caller's journal as JSON lines (docs/operations.md): runs, fills, orders, bars, notes."""
    return StreamingResponse(
        service.stream_export(context.db, user),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{user.username}.jsonl"'},
    )


@router.post(
    "/import",
    operation_id="import_journal",
    openapi_extra={"requestBody": {"required": True, "content": {
        MEDIA_TYPE: {"schema": {"type": "string"}}}}},  # fmt: skip
    responses={413: {}, 422: {}},
)
async def import_journal(request: Request, user: CurrentUser, context: ContextDep) -> ImportRead:
    """Add a journal (JSON lines from GET /api/export) to the caller's; idempotent."""
    body = await read_body(request, MAX_IMPORT_BYTES)
    derivations = context.ingest.derivations

    def derive() -> None:
        derivations.run_pending()
        derivations.wait_idle(timeout=60)  # what the background runner took is done too

    result = await run_in_threadpool(
        service.import_lines, context.db, user.id, body.splitlines(), derive
    )
    return ImportRead.model_validate(result, from_attributes=True)
