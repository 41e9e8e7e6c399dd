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


def encode_cursor(ts: int, row_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([ts, row_id])).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if isinstance(ts, int) and isinstance(row_id, int):
            return ts, row_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidPayload("cursor: not a cursor this API returned")
