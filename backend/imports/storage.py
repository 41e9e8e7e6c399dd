"""Where staged uploads live: `<data dir>/imports/<user_id>/<id>.upload`, 0700 folders, 0600
files (backend/file_modes.py), written under a temporary name and renamed into place."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from backend.file_modes import open_private, private_dir

FOLDER = "imports"
_STORED = re.compile(r"^(\d+)\.upload$")


def root(data_dir: Path) -> Path:
    return data_dir / FOLDER


def path_of(data_dir: Path, user_id: int, import_id: int) -> Path:
    return root(data_dir) / str(user_id) / f"{import_id}.upload"


def write(data_dir: Path, user_id: int, import_id: int, data: bytes) -> Path:
    folder = private_dir(root(data_dir) / str(user_id))
    partial = folder / f".{secrets.token_hex(8)}.partial"
    with open_private(partial) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    final = path_of(data_dir, user_id, import_id)
    os.replace(partial, final)
    return final


def remove(data_dir: Path, user_id: int, import_id: int) -> None:
    path_of(data_dir, user_id, import_id).unlink(missing_ok=True)


def stored(data_dir: Path) -> set[tuple[int, int]]:
    """(user_id, import_id) of every upload file on disk."""
    base = root(data_dir)
    found: set[tuple[int, int]] = set()
    if not base.is_dir():
        return found
    for folder in base.iterdir():
        if not (folder.is_dir() and folder.name.isdigit()):
            continue
        for path in folder.iterdir():
            match = _STORED.match(path.name)
            if match is not None:
                found.add((int(folder.name), int(match.group(1))))
            elif path.name.endswith(".partial") and time.time() - path.stat().st_mtime > 3600:
                path.unlink(missing_ok=True)  # left by a crash mid-upload
    return found
