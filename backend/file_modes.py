"""The journal's files are their owner's only: folders 0700, files 0600.

The data directory holds the SQLite database and its `-wal`, `-shm` and `-writer.lock`,
the generated secret key and training-node token, uploaded backtest datasets and the
backtests' spools; backups hold the whole journal. Each is created with its mode (not
tightened after the fact, when another user could already have opened it), and one that
exists with a looser mode is tightened when the service starts, with a warning that says
what it was. A folder the operator chose for something else (the directory of a
`DATABASE_URL` file, a backup's folder) is created private but never changed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDECARS = ("-wal", "-shm", "-journal", "-writer.lock")


def mode_of(path: Path) -> int:
    """The permission bits of `path` (`0o600`, ...)."""
    return stat.S_IMODE(path.stat().st_mode)


def tighten(path: Path, allowed: int) -> bool:
    """Drop the bits of `path` beyond `allowed`, with a warning; whether it had any."""
    current = mode_of(path)
    if not current & ~allowed:
        return False
    path.chmod(current & allowed)
    log.warning("%s was mode %03o, open to other users: now %03o", path, current, current & allowed)
    return True


def private_dir(path: Path, *, tighten_existing: bool = True) -> Path:
    """`path` as a folder only its owner can enter: created 0700 (any missing parents too),
    or, when it exists and `tighten_existing`, its group and other bits dropped."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
    if not missing and tighten_existing:
        tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` readable by its owner only: created empty with mode 0600 if absent, else
    tightened. SQLite accepts an empty file as a new database, and gives the `-wal` and
    `-shm` files it makes the mode of the database file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        tighten(path, FILE_MODE)
    else:
        os.close(fd)
    return path


def open_private(path: Path) -> BinaryIO:
    """A new file at `path` (it must not exist), mode 0600, open for writing bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    return os.fdopen(fd, "wb")


def private_sqlite(database: Path) -> None:
    """The database file (created if absent) and the sidecar files SQLite and the writer
    lock keep next to it, each 0600; its folder is created 0700 when missing."""
    private_dir(database.parent, tighten_existing=False)
    private_file(database)
    for suffix in SQLITE_SIDECARS:
        sidecar = database.with_name(database.name + suffix)
        if sidecar.exists():
            tighten(sidecar, FILE_MODE)


def private_data_dir(data_dir: Path) -> None:
    """At start: the data directory 0700, and every file and folder in it its owner's only."""
    private_dir(data_dir)
    for root, folders, files in os.walk(data_dir):  # symbolic links are not followed
        for name, allowed in [*((f, DIR_MODE) for f in folders), *((f, FILE_MODE) for f in files)]:
            path = Path(root, name)
            if not path.is_symlink():
                tighten(path, allowed)
