"""The one place where errors become HTTP responses: `{"error": ..., "detail": ...}`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.db.errors import is_storage_full, storage_full
from backend.errors import AppError
from backend.ingest.domain import DomainError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    507: "insufficient_storage",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def field_path(loc: Sequence[int | str]) -> str:
    """`("body", "run", "key")` → `run.key`; `("query", "limit")` → `query.limit`."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe_validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    return [
        {"field": field_path(error.get("loc", ())), "problem": _problem(error)} for error in errors
    ]


def _problem(error: Any) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


# What every error body looks like (the 422 FastAPI documents by default has another shape).
ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a stable machine-readable code"},
        "detail": {"type": "string", "description": "what was wrong and where"},
        "errors": {
            "type": "array",
            "description": "422 only: each field and its problem",
            "items": {
                "type": "object",
                "required": ["field", "problem"],
                "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
            },
        },
    },
}


def document_error_bodies(app: FastAPI) -> None:
    """Make the OpenAPI 422 schema the one `_validation_error` really sends."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemas = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_SCHEMA
            schemas.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    document_error_bodies(app)

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.detail, **exc.extra),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = describe_validation_errors(exc.errors())
        detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(error_body("invalid_payload", detail, errors=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the client sent (PostgreSQL: NUL in text, a number
        # out of a column's range): the request is at fault, not the service.
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return JSONResponse(
            error_body("invalid_value", f"the database refused a value: {reason}"),
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        if not is_storage_full(exc):
            return await _unexpected(request, exc)
        full = storage_full("the change")
        return JSONResponse(error_body(full.code, full.detail), status_code=full.status_code)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        # Values beyond what the service computes with (backend/ingest/domain.py).
        return JSONResponse(error_body("out_of_range", str(exc)), status_code=422)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        if "SQLite INTEGER" not in str(exc):  # SQLite's driver binding an id beyond 64 bits
            return await _unexpected(request, exc)
        return JSONResponse(
            error_body("invalid_value", "a number is beyond the 64-bit integer range"),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "an unexpected error occurred; it has been logged"),
            status_code=500,
        )
