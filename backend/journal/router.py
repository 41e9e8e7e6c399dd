"""GET /api/export and POST /api/import: the caller's whole journal as JSON lines."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ContextDep
from backend.auth.deps import CanExport, CanWriteJournal
from backend.errors import PayloadTooLarge, TooManyRequests
from backend.journal import service
from backend.journal.importer import JournalParser, ParsedJournal

router = APIRouter(prefix="/api", tags=["journal"])

MEDIA_TYPE = "application/x-ndjson"
MAX_IMPORT_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024


class ImportRead(BaseModel):
    runs: int
    accepted: int
    duplicates: int
    rejected: list[str]
    dead_letters: int
    annotations: int
    journal: int = Field(
        description="playbooks, mistakes, trade reviews, journal days and the template applied"
    )
    attachments: int
    webhooks: int = Field(default=0, description="webhook endpoints made (disabled, no secret)")


@router.get(
    "/export",
    operation_id="export_journal",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def export_journal(principal: CanExport, context: ContextDep) -> StreamingResponse:
    """The caller's journal as JSON lines (docs/operations.md): runs, fills, orders, bars, notes,
    attachments."""
    user = principal.user
    return StreamingResponse(
        service.stream_export(context.db, user, context.settings.data_dir),
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
async def import_journal(
    request: Request, principal: CanWriteJournal, context: ContextDep
) -> ImportRead:
    """Add a journal (JSON lines from GET /api/export) to the caller's; idempotent."""
    slot = (id(context), principal.user_id)
    if slot in _importing:
        raise TooManyRequests("an import of yours is still running; one at a time", retry_after=5)
    _importing.add(slot)
    try:
        journal = await _parse_stream(request)
        derivations = context.ingest.derivations

        def derive() -> None:
            derivations.run_pending()
            derivations.wait_idle(timeout=60)  # what the background runner took is done too

        result = await run_in_threadpool(
            service.import_parsed, context.db, principal.user_id, journal, derive,
            context.settings.data_dir,
        )  # fmt: skip
    finally:
        _importing.discard(slot)
    return ImportRead.model_validate(result, from_attributes=True)


_importing: set[tuple[int, int]] = set()  # (app, user) imports running in this process


async def _parse_stream(request: Request) -> ParsedJournal:
    """Parse the body's lines as they arrive, never holding it whole: 413 past
    MAX_IMPORT_BYTES or a line past MAX_LINE_BYTES, 422 naming the first bad line."""
    parser, rest, size = JournalParser(), b"", 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"the journal is over {MAX_IMPORT_BYTES} bytes, the most "
                                  "one import takes; split it by run")  # fmt: skip
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE_BYTES:
            raise PayloadTooLarge(f"line {parser.lines + len(lines) + 1}: longer than "
                                  f"{MAX_LINE_BYTES} bytes")  # fmt: skip
        if lines:
            await run_in_threadpool(parser.feed, lines)
    await run_in_threadpool(parser.feed, [rest])
    return parser.finish()
