"""Keyset pagination: an opaque cursor holding the (ts, id) of the last row served."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from backend.errors import InvalidPayload

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=5000, description="rows per page")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: object, row_id: int) -> str:
    """A cursor for a keyset over (a sortable JSON value, id)."""
    return base64.urlsafe_b64encode(orjson.dumps([value, row_id])).decode().rstrip("=")


def decode_cursor_value(cursor: str | None) -> tuple[object, int] | None:
    """(value, id) of a cursor from `encode_cursor`; 422 for anything else."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        known = value is None or isinstance(value, int | float | str)
        if known and _is_id(row_id) and not isinstance(value, bool):
            return value, row_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise _bad_cursor()


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decode_cursor(cursor: str | None) -> tuple[int, int] | None:
    """A (ts, id) cursor."""
    decoded = decode_cursor_value(cursor)
    if decoded is None:
        return None
    value, row_id = decoded
    if not isinstance(value, int):
        raise _bad_cursor()
    return value, row_id


def _bad_cursor() -> InvalidPayload:
    return InvalidPayload("cursor: not a cursor this API returned")
