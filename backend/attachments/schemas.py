from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Target = Literal["trade", "day", "playbook"]


class AttachmentRead(BaseModel):
    """An image attached to a trade, a journal day or a playbook."""

    id: int
    target: Target
    key: str = Field(description="the trade's id, the day (YYYY-MM-DD) or the playbook's id")
    filename: str
    content_type: Literal["image/png", "image/jpeg", "image/webp"] = Field(
        description="sniffed from the content, whatever the upload declared"
    )
    size: int = Field(description="bytes of the original")
    width: int = Field(description="pixels, as stored (before any EXIF orientation)")
    height: int
    created_at: dt.datetime
    url: str = Field(description="the original: GET with the bearer token")
    thumbnail_url: str = Field(description="a WebP fitting 320x320, EXIF orientation applied")
