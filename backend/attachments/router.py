"""/api/attachments: images attached to trades, journal days and playbooks (docs/attachments.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.attachments import service
from backend.attachments.schemas import AttachmentRead, Target
from backend.auth.deps import CanRead, CanWriteJournal
from backend.errors import PayloadTooLarge

router = APIRouter(prefix="/api", tags=["attachments"])

TargetQuery = Annotated[Target, Query(description="what the image is attached to")]
KeyQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        description="the trade's id, the day (YYYY-MM-DD) or the playbook's id",
    ),  # fmt: skip
]
IMAGE_BODY = {"required": True, "content": {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("image/png", "image/jpeg", "image/webp")}}  # fmt: skip
IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("image/png", "image/jpeg", "image/webp")}}}  # fmt: skip


@router.post(
    "/attachments", operation_id="create_attachment", status_code=201,
    openapi_extra={"requestBody": IMAGE_BODY}, responses={404: {}, 413: {}, 415: {}, 422: {}},
)  # fmt: skip
async def create_attachment(
    request: Request,
    target: TargetQuery,
    key: KeyQuery,
    principal: CanWriteJournal,
    context: ContextDep,
    x_filename: Annotated[str | None, Header(description="the file's name, <= 200 chars")] = None,
) -> AttachmentRead:
    """Attach the raw PNG, JPEG or WebP image in the body (<= 10 MiB, <= 40 megapixels)."""
    service.check_content_type(request.headers.get("content-type"))
    filename = service.clean_filename(x_filename)
    data = await _read_bounded(request)
    created = await run_in_threadpool(
        service.create, context.db, context.settings.data_dir, principal.user_id, target, key,
        data, filename,
    )  # fmt: skip
    context.broker.publish(principal.user_id, service.changed(created.target, created.key))
    return created


async def _read_bounded(request: Request) -> bytes:
    """The body, refused (413) as soon as it passes MAX_BYTES, without reading the rest."""
    limit = service.MAX_BYTES
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the image is over {limit} bytes (10 MiB), the most an "
                                  "attachment may be")  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/attachments", operation_id="list_attachments")
def list_attachments(
    target: TargetQuery, key: KeyQuery, principal: CanRead, session: SessionDep
) -> list[AttachmentRead]:
    """The images attached to one of the caller's trades, days or playbooks, oldest first."""
    return service.list_for(session, principal.user_id, target, key)


def _serve(context: ContextDep, session: SessionDep, user_id: int, attachment_id: int,
           *, thumb: bool) -> FileResponse:  # fmt: skip
    row = service.get(session, user_id, attachment_id)
    path, media = service.file_of(context.settings.data_dir, row, thumb=thumb)
    name = row.filename.rsplit(".", 1)[0] + ".thumb.webp" if thumb else row.filename
    return FileResponse(
        path, media_type=media, filename=name, content_disposition_type="inline",
        headers={"Cache-Control": "private", "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


@router.get(
    "/attachments/{attachment_id}/file", operation_id="get_attachment_file",
    response_class=FileResponse, responses=IMAGE_RESPONSE,
)  # fmt: skip
def get_attachment_file(
    attachment_id: int, principal: CanRead, context: ContextDep, session: SessionDep
) -> FileResponse:
    """The original image, as uploaded."""
    return _serve(context, session, principal.user_id, attachment_id, thumb=False)


@router.get(
    "/attachments/{attachment_id}/thumbnail", operation_id="get_attachment_thumbnail",
    response_class=FileResponse, responses={200: {"content": {"image/webp": {}}}},
)  # fmt: skip
def get_attachment_thumbnail(
    attachment_id: int, principal: CanRead, context: ContextDep, session: SessionDep
) -> FileResponse:
    """The image's thumbnail: a WebP fitting 320x320, upright."""
    return _serve(context, session, principal.user_id, attachment_id, thumb=True)


@router.delete("/attachments/{attachment_id}", operation_id="delete_attachment", status_code=204)
def delete_attachment(
    attachment_id: int, principal: CanWriteJournal, context: ContextDep, session: WriteSessionDep
) -> Response:
    """Delete an attachment and its files."""
    row = service.remove(session, principal.user_id, attachment_id)
    target, key = row.target, row.key
    session.commit()
    service.sweep(context.db, context.settings.data_dir, [principal.user_id])
    context.broker.publish(principal.user_id, service.changed(target, key))
    return Response(status_code=204)
