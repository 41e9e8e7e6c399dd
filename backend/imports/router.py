"""/api/imports: broker statements in, with a preview (docs/imports.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ContextDep
from backend.auth.deps import CanIngest, CanRead
from backend.errors import PayloadTooLarge
from backend.imports import runner, service
from backend.imports.schemas import (
    FormatRead,
    ImportConfirm,
    ImportOptions,
    ImportPreview,
    ImportStatus,
    MappingUpdate,
    SavedMapping,
    SavedMappingWrite,
)

router = APIRouter(prefix="/api/imports", tags=["imports"])

FILE_BODY = {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}  # fmt: skip
MappingName = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/formats", operation_id="list_import_formats")
def list_formats(principal: CanRead) -> list[FormatRead]:  # noqa: ARG001 (authenticated)
    """The file formats an import reads, with how each is exported and read."""
    return service.list_formats()


@router.get("/mappings", operation_id="list_import_mappings")
def list_mappings(principal: CanRead, context: ContextDep) -> list[SavedMapping]:
    """The caller's saved CSV column mappings, by name."""
    return service.list_mappings(context.db, principal.user_id)


@router.get("/mappings/{name}", operation_id="get_import_mapping", responses={404: {}})
def get_mapping(name: MappingName, principal: CanRead, context: ContextDep) -> SavedMapping:
    """One saved mapping."""
    return service.get_mapping(context.db, principal.user_id, name)


@router.put("/mappings/{name}", operation_id="save_import_mapping", responses={422: {}})
def save_mapping(
    name: MappingName, body: SavedMappingWrite, principal: CanIngest, context: ContextDep
) -> SavedMapping:
    """Save (create or replace) a CSV column mapping under a name."""
    return service.save_mapping(context.db, principal.user_id, name, body)


@router.delete("/mappings/{name}", operation_id="delete_import_mapping", status_code=204,
               responses={404: {}})  # fmt: skip
def delete_mapping(name: MappingName, principal: CanIngest, context: ContextDep) -> Response:
    """Delete a saved mapping."""
    service.delete_mapping(context.db, principal.user_id, name)
    return Response(status_code=204)


@router.post(
    "", operation_id="create_import", status_code=201, openapi_extra={"requestBody": FILE_BODY},
    responses={413: {}, 422: {}},
)  # fmt: skip
async def create_import(
    request: Request,
    principal: CanIngest,
    context: ContextDep,
    filename: Annotated[str, Query(max_length=1000, description="the file's name")],
    format: Annotated[str | None, Query(max_length=32, description="a format id; "
                                        "detected when omitted")] = None,  # fmt: skip
    tz: Annotated[str | None, Query(max_length=64, description="IANA zone of the file's "
                                    "wall-clock times")] = None,  # fmt: skip
) -> ImportPreview:
    """Upload a statement (the raw file, <= 64 MiB): it is staged and previewed, not stored."""
    name = service.clean_filename(filename)
    data = await _read_bounded(request)
    return await run_in_threadpool(service.stage, context.db, context.settings.data_dir,
                                   principal.user_id, name, data, format, tz)  # fmt: skip


async def _read_bounded(request: Request) -> bytes:
    limit = service.MAX_UPLOAD_BYTES
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the file is over {limit} bytes (64 MiB), the most an "
                                  "import may be")  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("", operation_id="list_imports")
def list_imports(principal: CanRead, context: ContextDep) -> list[ImportStatus]:
    """The caller's imports, newest first."""
    return service.history(context.db, principal.user_id)


@router.get("/{import_id}", operation_id="get_import", responses={404: {}})
def get_import(import_id: int, principal: CanRead, context: ContextDep) -> ImportStatus:
    """One import: its state, progress and summary."""
    return service.get(context.db, principal.user_id, import_id)


@router.get("/{import_id}/preview", operation_id="get_import_preview",
            responses={404: {}, 409: {}})  # fmt: skip
def get_preview(import_id: int, principal: CanRead, context: ContextDep) -> ImportPreview:
    """A staged import's preview, parsed again."""
    return service.preview(context.db, context.settings.data_dir, principal.user_id, import_id)


@router.patch("/{import_id}", operation_id="update_import", responses={404: {}, 409: {}, 422: {}})
def update_import(
    import_id: int, body: ImportOptions, principal: CanIngest, context: ContextDep
) -> ImportPreview:
    """Read a staged file as another format or in another time zone."""
    return service.set_options(context.db, context.settings.data_dir, principal.user_id,
                               import_id, body)  # fmt: skip


@router.put("/{import_id}/mapping", operation_id="set_import_mapping",
            responses={404: {}, 409: {}, 422: {}})  # fmt: skip
def set_mapping(
    import_id: int, body: MappingUpdate, principal: CanIngest, context: ContextDep
) -> ImportPreview:
    """Read a staged CSV through a column mapping (optionally saving the mapping)."""
    return service.set_mapping(context.db, context.settings.data_dir, principal.user_id,
                               import_id, body)  # fmt: skip


@router.post("/{import_id}/confirm", operation_id="confirm_import", status_code=202,
             responses={404: {}, 409: {}, 422: {}})  # fmt: skip
async def confirm_import(
    import_id: int, body: ImportConfirm, principal: CanIngest, context: ContextDep
) -> ImportStatus:
    """Store a staged import's fills in a run (in the background: follow its progress)."""
    return await runner.confirm(context, principal.user_id, import_id, body)


@router.delete("/{import_id}", operation_id="delete_import", status_code=204,
               responses={404: {}, 409: {}})  # fmt: skip
def delete_import(import_id: int, principal: CanIngest, context: ContextDep) -> Response:
    """Discard a staged import (its file), or forget a finished one (its fills stay)."""
    service.discard(context.db, context.settings.data_dir, principal.user_id, import_id)
    return Response(status_code=204)
