"""Where attachment files live: `<data dir>/attachments/<user_id>/<id>.<ext>` and
`<id>.thumb.webp`, folders 0700 and files 0600 (backend/file_modes.py).

Names on disk come from the row's id and the sniffed format, never from the client.
A file is written under a temporary name (`.<random>.partial`) and renamed into place,
so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from backend.file_modes import open_private, private_dir

FOLDER = "attachments"
THUMBNAIL_SUFFIX = ".thumb.webp"
_STORED = re.compile(r"^(\d+)(?:\.thumb\.webp|\.png|\.jpg|\.webp)$")
STALE_PARTIAL_SECONDS = 3600  # a partial file older than this was left by a crash


def root(data_dir: Path) -> Path:
    return data_dir / FOLDER


def user_dir(data_dir: Path, user_id: int) -> Path:
    return root(data_dir) / str(user_id)


def original_path(data_dir: Path, user_id: int, attachment_id: int, extension: str) -> Path:
    return user_dir(data_dir, user_id) / f"{attachment_id}.{extension}"


def thumbnail_path(data_dir: Path, user_id: int, attachment_id: int) -> Path:
    return user_dir(data_dir, user_id) / f"{attachment_id}{THUMBNAIL_SUFFIX}"


def stage(data_dir: Path, user_id: int, data: bytes) -> Path:
    """`data` in a new partial file (0600) of the user's folder, flushed to disk."""
    folder = private_dir(user_dir(data_dir, user_id))
    path = folder / f".{secrets.token_hex(8)}.partial"
    with open_private(path) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def place(staged: Path, final: Path) -> None:
    os.replace(staged, final)


def remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def stored_files(folder: Path) -> dict[int, list[Path]]:
    """The attachment files in a user's folder, by attachment id."""
    found: dict[int, list[Path]] = {}
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = _STORED.match(path.name)
        if match is not None and path.is_file():
            found.setdefault(int(match.group(1)), []).append(path)
    return found


def stale_partials(folder: Path, now: float | None = None) -> list[Path]:
    """Partial files a crashed upload left behind (older than STALE_PARTIAL_SECONDS)."""
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    return [path for path in folder.glob(".*.partial")
            if now - path.stat().st_mtime > STALE_PARTIAL_SECONDS]  # fmt: skip


def user_folders(data_dir: Path) -> dict[int, Path]:
    """Every user's attachment folder, by user id."""
    base = root(data_dir)
    if not base.is_dir():
        return {}
    return {int(p.name): p for p in base.iterdir() if p.is_dir() and p.name.isdigit()}
