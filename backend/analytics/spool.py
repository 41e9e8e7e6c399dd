"""Chunks produced ahead of a slow reader: a thread writes them to an unlinked temporary
file as fast as it can, the response reads them back at the client's pace.

A report is read in one snapshot. Streamed straight to the client, a client reading
slowly (a phone, a throttled download) would hold that snapshot open for as long as it
takes: on SQLite in WAL mode a reader's snapshot stops checkpoints from going past it, so
the WAL file grows for minutes under ingest; on PostgreSQL it holds back vacuum. Spooled,
the snapshot lasts as long as the server takes to write the report (about a second for
100,000 trades), the memory held stays a page of rows plus one read buffer, and the rest
waits on disk (the page cache, mostly) until the client takes it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator

READ_SIZE = 1 << 18  # what the response hands on at a time


class Spool:
    """Iterate it for the chunks of `chunks`, produced in a thread of its own.

    `start()` waits for the first chunk: an error raised before it (NotFound for a run that
    is not the caller's) is raised there, before any byte of the response is sent.
    """

    def __init__(self, chunks: Iterator[bytes], *, read_size: int = READ_SIZE) -> None:
        self._chunks = chunks
        self._read_size = read_size
        self._file = tempfile.TemporaryFile(prefix="fillbook-spool-")
        self._users = 2  # the producer and the reader; the last one out closes the file
        self._changed = threading.Condition()
        self._written = 0
        self._done = False
        self._cancelled = False
        self._error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="report-spool", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.wait()
        with self._changed:
            if self._error is not None and self._written == 0:
                self._release()  # the reader will not come
                raise self._error

    def _produce(self) -> None:
        fd = self._file.fileno()
        try:
            for chunk in self._chunks:
                if self._cancelled:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
                with self._changed:
                    self._written += len(chunk)
                    self._changed.notify_all()
                self._started.set()
        except BaseException as error:  # handed to the reader, which raises it
            self._error = error
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # ends the generator's transaction at once, also when cancelled
            with self._changed:
                self._done = True
                self._changed.notify_all()
                self._release()
            self._started.set()

    def __iter__(self) -> Iterator[bytes]:
        fd, offset = self._file.fileno(), 0
        try:
            while True:
                with self._changed:
                    while offset == self._written and not self._done:
                        self._changed.wait()
                    end, done = self._written, self._done
                while offset < end:
                    data = os.pread(fd, min(self._read_size, end - offset), offset)
                    offset += len(data)
                    yield data
                if done and offset == end:
                    if self._error is not None:
                        raise self._error
                    return
        finally:
            with self._changed:
                self._cancelled = True
                self._release()

    def _release(self) -> None:
        """One user done with the file (called with `_changed` held)."""
        self._users -= 1
        if self._users == 0:
            self._file.close()
