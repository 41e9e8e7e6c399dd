"""The SQLite writer lock: handed over at once, bounded waits, re-entrant, dies with its holder."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db.engine import Database
from backend.db.errors import is_busy
from backend.db.write_lock import WriteLock, write_lock


def test_a_waiting_writer_gets_the_lock_as_soon_as_it_is_free(tmp_path: Path) -> None:
    lock = write_lock(str(tmp_path / "a.db"))
    taken, released, got = threading.Event(), [0.0], [0.0]

    def other() -> None:
        taken.wait()
        with lock.hold(5):
            got[0] = time.monotonic()

    thread = threading.Thread(target=other)
    thread.start()
    with lock.hold(5):
        taken.set()
        time.sleep(0.2)  # the other thread waits all this time
        released[0] = time.monotonic()
    thread.join(5)
    assert got[0] >= released[0]
    assert got[0] - released[0] < 0.05  # SQLite's busy handler would sleep 25-100 ms here


def test_waiting_past_the_timeout_fails_as_database_is_locked(tmp_path: Path) -> None:
    lock = write_lock(str(tmp_path / "a.db"))
    errors: list[BaseException] = []
    done = threading.Event()

    def other() -> None:
        started = time.monotonic()
        try:
            with lock.hold(0.1):
                pass
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        errors.append(TimeoutError(time.monotonic() - started))
        done.set()

    with lock.hold(5):
        threading.Thread(target=other).start()
        assert done.wait(5)
    assert is_busy(errors[0]), errors
    assert "database is locked" in str(errors[0])
    waited = float(str(errors[1]))
    assert 0.1 <= waited < 1.0


def test_a_thread_holding_it_can_take_it_again(tmp_path: Path) -> None:
    db_a = Database(f"sqlite:///{tmp_path}/a.db", busy_timeout_ms=200)
    db_b = Database(f"sqlite:///{tmp_path}/a.db", busy_timeout_ms=200)  # the same file
    assert db_a.write_lock is not None
    assert db_a.write_lock is db_b.write_lock
    with db_a.write_lock.hold(0.2), db_a.write_lock.hold(0.2):
        pass
    # Released: another thread takes it at once.
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(_try(db_a)))
    thread.start()
    thread.join(5)
    assert result == [True]
    db_a.dispose()
    db_b.dispose()


def _try(db: Database) -> bool:
    assert db.write_lock is not None
    with db.write_lock.hold(0.05):
        return True


def test_write_sessions_of_two_threads_take_turns(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/a.db")
    with db.session(write=True) as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))

    def bump() -> None:
        for _ in range(50):
            with db.session(write=True) as session:
                n = session.execute(text("SELECT n FROM counter")).scalar_one()
                session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with db.session() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 200
    db.dispose()


@pytest.mark.skipif(sys.platform != "linux", reason="flock semantics as on Linux")
def test_a_killed_holder_leaves_the_lock_free(tmp_path: Path) -> None:
    database = str(tmp_path / "a.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\n"
            "from backend.db.write_lock import write_lock\n"
            "with write_lock(sys.argv[1]).hold(5):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n"
        ), database],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        lock = write_lock(database)
        with pytest.raises(sqlite3.OperationalError, match="database is locked") as held:
            with lock.hold(0.05):
                pass
        assert is_busy(held.value)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
        started = time.monotonic()
        with lock.hold(1):
            assert time.monotonic() - started < 0.5
    finally:
        holder.kill()
        holder.wait(5)


def test_a_hold_released_on_another_thread_frees_the_lock(tmp_path: Path) -> None:
    """FastAPI enters the write session dependency in one worker thread and exits it in
    another: the lock must be free afterwards, for every thread."""
    lock = write_lock(str(tmp_path / "a.db"))
    hold = lock.hold(0.2)
    entered = threading.Thread(target=hold.__enter__)
    entered.start()
    entered.join(5)
    exited = threading.Thread(target=hold.__exit__, args=(None, None, None))
    exited.start()
    exited.join(5)
    taken: list[bool] = []
    thread = threading.Thread(target=lambda: taken.append(_free(lock)))
    thread.start()
    thread.join(5)
    assert taken == [True]  # another thread takes it at once
    assert _free(lock)  # and so does this one


def _free(lock: WriteLock) -> bool:
    try:
        with lock.hold(0.2):
            return True
    except sqlite3.OperationalError:
        return False
