"""Attachments in the journal export/import (backend/journal): records of kind `attachment`.

Each holds the original's bytes in base64 (`data`) with their `sha256`, its `filename`,
`content_type` and `created_at`, and what it is attached to: a trade by its run's
`source` and the `first_exec_id` of its first fill (what a trade's identity is built on,
like its notes), a day by `day`, a playbook by its `playbook` name. On import the content
is checked as an upload is, the thumbnail made anew, and an attachment already there (the
same target and the same bytes) is not added twice.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.attachments import service
from backend.attachments.content import CheckedImage, ImageRefused, check
from backend.db.engine import Database
from backend.db.models import Attachment, Execution, Playbook
from backend.errors import NotFound

KIND = "attachment"


def export_records(session: Session, user_id: int, data_dir: Path) -> Iterator[dict[str, Any]]:
    """The user's attachments as export records, oldest first; one whose file is missing
    is left out (and logged)."""
    rows = session.execute(
        select(Attachment, Playbook.name)
        .outerjoin(Playbook, Playbook.id == Attachment.playbook_id)
        .where(Attachment.user_id == user_id)
        .order_by(Attachment.id)
    ).all()
    for row, playbook in rows:
        try:
            path, _media = service.file_of(data_dir, row, thumb=False)
        except NotFound:
            continue
        record: dict[str, Any] = {"kind": KIND, "target": row.target}
        if row.target == "trade":
            fill = session.execute(
                select(Execution.source, Execution.exec_id).where(
                    Execution.id == int(row.key), Execution.user_id == user_id
                )
            ).first()
            if fill is None:
                continue  # its first fill is gone: nothing to key it by
            record |= {"source": fill.source, "first_exec_id": fill.exec_id}
        elif row.target == "day":
            record["day"] = row.key
        else:
            record["playbook"] = playbook
        data = path.read_bytes()
        yield record | {"filename": row.filename, "content_type": row.content_type,
                        "created_at": row.created_at.isoformat(), "sha256": row.sha256,
                        "data": base64.b64encode(data).decode("ascii")}  # fmt: skip


@dataclass(frozen=True)
class ImportedAttachment:
    target: str
    ref: tuple[str, ...]  # (source, first_exec_id) | (day,) | (playbook name,)
    filename: str
    created_at: dt.datetime | None
    data: bytes
    image: CheckedImage


def parse_record(record: dict[str, Any]) -> ImportedAttachment:
    """An `attachment` line, checked as an upload is; ValueError says what is wrong."""
    target = record["target"]
    if target == "trade":
        ref: tuple[str, ...] = (str(record["source"]), str(record["first_exec_id"]))
    elif target == "day":
        ref = (str(record["day"]),)
        if not service.DAY_PATTERN.match(ref[0]):
            raise ValueError(f"attachment: day {ref[0]!r} is not YYYY-MM-DD")
    elif target == "playbook":
        ref = (str(record["playbook"]),)
    else:
        raise ValueError(f"attachment: target {target!r} is not one of trade, day, playbook")
    try:
        data = base64.b64decode(record["data"], validate=True)
    except (binascii.Error, TypeError):
        raise ValueError("attachment: data is not base64") from None
    if len(data) > service.MAX_BYTES:
        raise ValueError(f"attachment: {len(data)} bytes; at most {service.MAX_BYTES}")
    if record.get("sha256") is not None and hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise ValueError("attachment: data does not match its sha256")
    try:
        image = check(data)
    except ImageRefused as exc:
        raise ValueError(f"attachment: {exc}") from None
    filename = service.clean_filename(str(record.get("filename") or "")) or ""
    created = record.get("created_at")
    return ImportedAttachment(target, ref, filename,
                              dt.datetime.fromisoformat(created) if created else None, data,
                              image)  # fmt: skip


def import_attachments(
    db: Database, data_dir: Path, user_id: int, items: list[ImportedAttachment]
) -> int:
    """Store the attachments whose target the user has and that are not there yet; the
    number stored."""
    stored = 0
    for item in items:
        with db.session() as session:
            key = _key(session, user_id, item)
            if key is None:
                continue
            digest = hashlib.sha256(item.data).hexdigest()
            known = session.scalar(
                select(Attachment.id).where(Attachment.user_id == user_id,
                                            Attachment.target == item.target,
                                            Attachment.key == key, Attachment.sha256 == digest)
            )  # fmt: skip
        if known is not None:
            continue
        try:
            service.store(db, data_dir, user_id, item.target, key, item.data, item.image,
                          item.filename or None, item.created_at)  # fmt: skip
        except NotFound:  # the fill is not the first of a trade (any more)
            continue
        stored += 1
    return stored


def _key(session: Session, user_id: int, item: ImportedAttachment) -> str | None:
    if item.target == "day":
        return item.ref[0]
    if item.target == "playbook":
        found = session.scalar(
            select(Playbook.id).where(Playbook.user_id == user_id, Playbook.name == item.ref[0])
        )
        return None if found is None else str(found)
    trade_id = session.scalar(
        select(Execution.id).where(
            Execution.user_id == user_id,
            Execution.source == item.ref[0],
            Execution.exec_id == item.ref[1],
        )  # fmt: skip
    )
    return None if trade_id is None else str(trade_id)
