"""Attachments: upload (checked, stored, thumbnailed), list, serve, delete, sweep.

The row and its files never disagree for long: the files are written first under
temporary names, renamed into place inside the row's transaction, and removed again
if the commit fails. Files whose row is gone (deleted, or cascaded from its run,
playbook or user) are removed by `sweep`, run after every delete that can take
attachments with it and at service start.

`sweep` and uploads of one user are serialized by a lock on the user's row (SQLite's
write lock does it already; PostgreSQL's `FOR UPDATE`), so a sweep never sees the file
of an upload whose row is not committed yet and takes it for an orphan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.attachments import storage
from backend.attachments.content import CONTENT_TYPES, CheckedImage, check, thumbnail
from backend.attachments.content import ImageRefused as ImageRefused
from backend.attachments.schemas import AttachmentRead, Target
from backend.db.engine import Database
from backend.db.models import Attachment, Playbook, Trade, User
from backend.errors import InvalidPayload, NotFound, UnsupportedMediaType

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_FILENAME_CHARS = 200
TARGETS: tuple[Target, ...] = ("trade", "day", "playbook")
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Owner:
    """What an attachment is attached to, resolved for one user."""

    target: Target
    key: str
    run_id: int | None = None
    playbook_id: int | None = None


def resolve(session: Session, user_id: int, target: str, key: str) -> Owner:
    """The caller's trade, day or playbook named by (`target`, `key`); 404 for another's."""
    if target == "day":
        if not DAY_PATTERN.match(key):
            raise InvalidPayload(f"key: {key!r} is not a day (YYYY-MM-DD)")
        try:
            dt.date.fromisoformat(key)
        except ValueError:
            raise InvalidPayload(f"key: {key!r} is not a day (YYYY-MM-DD)") from None
        return Owner("day", key)
    if target not in ("trade", "playbook"):
        raise InvalidPayload(f"target: {target!r} is not one of trade, day, playbook")
    if not (key.isascii() and key.isdigit() and len(key) <= 19):
        raise InvalidPayload(f"key: {key!r} is not a {target} id")
    number = int(key)
    if target == "trade":
        run_id = session.scalar(
            select(Trade.run_id).where(Trade.id == number, Trade.user_id == user_id)
        )
        if run_id is None:
            raise NotFound(f"trade {number} not found")
        return Owner("trade", str(number), run_id=run_id)
    found = session.scalar(
        select(Playbook.id).where(Playbook.id == number, Playbook.user_id == user_id)
    )
    if found is None:
        raise NotFound(f"playbook {number} not found")
    return Owner("playbook", str(number), playbook_id=number)


def check_content_type(declared: str | None) -> None:
    """415 unless the upload declares one of the accepted image types (the content is
    then checked on its own)."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    if media not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type: {declared or 'missing'!r}; send the raw image as image/png, "
            "image/jpeg or image/webp"
        )


def clean_filename(raw: str | None) -> str | None:
    """The X-Filename header (percent-encoded UTF-8 is decoded) without any folder part;
    422 past MAX_FILENAME_CHARS or with control characters."""
    if raw is None or not raw.strip():
        return None
    name = unquote(raw.strip()).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(name) > MAX_FILENAME_CHARS:
        raise InvalidPayload(f"X-Filename: {len(name)} characters; at most {MAX_FILENAME_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidPayload("X-Filename: must not contain control characters")
    return name or None


def checked(data: bytes) -> CheckedImage:
    """The image's format and size, or 422 saying what is wrong with it."""
    if not data:
        raise InvalidPayload("body: empty; send the image's bytes")
    try:
        return check(data)
    except ImageRefused as exc:
        raise InvalidPayload(f"body: {exc}") from None


def create(
    db: Database,
    data_dir: Path,
    user_id: int,
    target: str,
    key: str,
    data: bytes,
    filename: str | None,
    created_at: dt.datetime | None = None,
) -> AttachmentRead:
    """Check, store and thumbnail `data` as the caller's attachment of (`target`, `key`)."""
    with db.session() as session:
        resolve(session, user_id, target, key)  # 404 before any work
    image = checked(data)
    return store(db, data_dir, user_id, target, key, data, image, filename, created_at)


def store(
    db: Database,
    data_dir: Path,
    user_id: int,
    target: str,
    key: str,
    data: bytes,
    image: CheckedImage,
    filename: str | None,
    created_at: dt.datetime | None = None,
) -> AttachmentRead:
    """Write the files (under temporary names), then add the row and rename them into
    place in one transaction; if it does not commit, the files are removed again."""
    staged = [storage.stage(data_dir, user_id, data),
              storage.stage(data_dir, user_id, thumbnail(data, image))]  # fmt: skip
    placed: list[Path] = []
    try:
        with db.session(write=True) as session:
            owner = resolve(session, user_id, target, key)
            lock_user(session, user_id)
            row = Attachment(
                user_id=user_id, target=owner.target, key=owner.key, run_id=owner.run_id,
                playbook_id=owner.playbook_id,
                filename=filename or f"{owner.target}-{owner.key}.{image.extension}",
                content_type=image.content_type, size=len(data),
                sha256=hashlib.sha256(data).hexdigest(), width=image.width,
                height=image.height,
            )  # fmt: skip
            if created_at is not None:
                row.created_at = created_at
            session.add(row)
            session.flush()
            finals = [storage.original_path(data_dir, user_id, row.id, image.extension),
                      storage.thumbnail_path(data_dir, user_id, row.id)]  # fmt: skip
            for source, final in zip(staged, finals, strict=True):
                storage.place(source, final)
                placed.append(final)
            read = to_read(row)
    except BaseException:
        storage.remove(*staged, *placed)
        raise
    return read


def lock_user(session: Session, user_id: int) -> None:
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def to_read(row: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.id, target=row.target, key=row.key, filename=row.filename,
        content_type=row.content_type, size=row.size, width=row.width,
        height=row.height, created_at=row.created_at, url=f"/api/attachments/{row.id}/file",
        thumbnail_url=f"/api/attachments/{row.id}/thumbnail",
    )  # fmt: skip


def list_for(session: Session, user_id: int, target: str, key: str) -> list[AttachmentRead]:
    """The caller's attachments of one trade, day or playbook, oldest first."""
    owner = resolve(session, user_id, target, key)
    rows = session.scalars(
        select(Attachment)
        .where(
            Attachment.user_id == user_id,
            Attachment.target == owner.target,
            Attachment.key == owner.key,
        )  # fmt: skip
        .order_by(Attachment.id)
    )
    return [to_read(row) for row in rows]


def get(session: Session, user_id: int, attachment_id: int) -> Attachment:
    row = session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.user_id == user_id)
    )
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return row


def file_of(data_dir: Path, row: Attachment, *, thumb: bool) -> tuple[Path, str]:
    """The file to serve and its content type; 404 if it is missing on disk."""
    if thumb:
        path, media = storage.thumbnail_path(data_dir, row.user_id, row.id), "image/webp"
    else:
        extension = next(ext for ct, ext in _EXTENSIONS if ct == row.content_type)
        path = storage.original_path(data_dir, row.user_id, row.id, extension)
        media = row.content_type
    if not path.is_file():
        log.error("attachment %s: its file %s is missing", row.id, path)
        raise NotFound(f"attachment {row.id}: its file is missing from the data directory")
    return path, media


_EXTENSIONS = (("image/png", "png"), ("image/jpeg", "jpg"), ("image/webp", "webp"))


def remove(session: Session, user_id: int, attachment_id: int) -> Attachment:
    """Delete the row (its files go with the next `sweep`)."""
    row = get(session, user_id, attachment_id)
    session.delete(row)
    session.flush()
    return row


def delete_day(session: Session, user_id: int, day: str) -> int:
    """Delete the rows of a journal day's attachments (DELETE /api/journal/days/{day});
    `sweep` removes their files after the commit. The number of rows."""
    result = session.execute(
        delete(Attachment).where(
            Attachment.user_id == user_id, Attachment.target == "day", Attachment.key == day
        )  # fmt: skip
    )
    return int(getattr(result, "rowcount", 0) or 0)


def sweep(db: Database, data_dir: Path, user_ids: Sequence[int] | None = None) -> int:
    """Remove the files whose row is gone (and partial files a crash left) for `user_ids`,
    every user's folder when None; the number of files removed."""
    folders = storage.user_folders(data_dir)
    wanted = folders if user_ids is None else {u: folders[u] for u in user_ids if u in folders}
    removed = 0
    for user_id, folder in wanted.items():
        with db.session(write=True) as session:
            lock_user(session, user_id)
            kept = set(session.scalars(select(Attachment.id).where(Attachment.user_id == user_id)))
            doomed = [path for attachment_id, paths in storage.stored_files(folder).items()
                      if attachment_id not in kept for path in paths]  # fmt: skip
            doomed += storage.stale_partials(folder)
            storage.remove(*doomed)
        removed += len(doomed)
    if removed:
        log.info("attachments: removed %d files whose rows are gone", removed)
    return removed


def changed(target: str, key: str) -> dict[str, str]:
    """What live clients hear when a trade's, day's or playbook's attachments change."""
    return {"type": "journal_changed", "target": "attachment", "key": f"{target}:{key}"}
