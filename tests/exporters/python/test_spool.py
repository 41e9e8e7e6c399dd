"""The spool on its own: the intake journal, its absorption into SQLite, truncation, recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fillbook_exporter import spool as spool_module
from fillbook_exporter.spool import RECORD, Spool, parse_records

RUN = {"key": "r-1", "strategy": "S"}


def bodies(spool: Spool) -> list[bytes]:
    batch = spool.next_batch(10_000, 1 << 30)
    return [] if batch is None else batch.bodies


class TestJournal:
    def test_appends_reach_sqlite_in_order_and_survive_reopening(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "s.spool")
        stream = spool.open_stream("desk", RUN)
        spool.append(stream, b'{"n":1}')
        spool.append_many(stream, [b'{"n":2}', b'{"n":3}'])
        assert spool.pending() == 3
        assert spool.unabsorbed() == 3
        spool.close()  # like a killed process: nothing absorbed yet

        reopened = Spool(tmp_path / "s.spool")  # absorbs what the last one left
        assert reopened.unabsorbed() == 0
        assert bodies(reopened) == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
        assert reopened.absorb() == 0  # nothing twice
        assert reopened.pending() == 3

    def test_a_torn_last_record_is_left_for_later(self) -> None:
        whole = RECORD.pack(3, 1, 1.5) + b"abc"
        torn = RECORD.pack(5, 1, 2.5) + b"de"
        rows, used = parse_records(whole + torn)
        assert rows == [(1, 1.5, b"abc")]
        assert used == len(whole)

    def test_the_journal_is_truncated_once_absorbed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(spool_module, "TRUNCATE_AT", 100)
        spool = Spool(tmp_path / "s.spool")
        stream = spool.open_stream("desk", RUN)
        spool.append_many(stream, [b"x" * 40] * 5)
        assert spool.absorb() == 5
        assert os.path.getsize(spool.journal_path) == 0
        spool.append(stream, b'{"after":1}')
        assert spool.absorb() == 1
        assert bodies(spool) == [b"x" * 40] * 5 + [b'{"after":1}']

    def test_an_offset_past_the_end_means_truncated_before_the_reset(
        self, tmp_path: Path
    ) -> None:
        spool = Spool(tmp_path / "s.spool")
        stream = spool.open_stream("desk", RUN)
        spool.append(stream, b'{"n":1}')
        spool.absorb()
        # A crash between truncating the journal and resetting the stored offset
        # (the process dies: no close()):
        os.truncate(spool.journal_path, 0)
        reopened = Spool(tmp_path / "s.spool")
        stream = reopened.open_stream("desk", RUN)
        reopened.append(stream, b'{"n":2}')
        assert reopened.absorb() == 1
        assert bodies(reopened) == [b'{"n":1}', b'{"n":2}']

    def test_status_counts_the_journal_without_absorbing_it(self, tmp_path: Path) -> None:
        writer = Spool(tmp_path / "s.spool")
        stream = writer.open_stream("desk", RUN)
        writer.append_many(stream, [b"{}"] * 4)
        reader = Spool(tmp_path / "s.spool", absorb=False)
        (status,) = reader.status()
        assert (status.source, status.run_key, status.pending) == ("desk", "r-1", 4)
        assert status.oldest_at is not None
        assert writer.unabsorbed() == 4  # the reader moved nothing

    def test_closing_removes_a_fully_absorbed_journal(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "s.spool")
        stream = spool.open_stream("desk", RUN)
        spool.append(stream, b'{"n":1}')
        spool.absorb()
        spool.close()
        assert not spool.journal_path.exists()
        reopened = Spool(tmp_path / "s.spool")
        assert bodies(reopened) == [b'{"n":1}']

    def test_a_journal_left_by_a_deleted_spool_is_set_aside(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        old = Spool(tmp_path / "s.spool")
        old.append(old.open_stream("someone else", {"key": "other run"}), b'{"old":1}')
        old.close()
        for suffix in ("", "-wal", "-shm"):  # the database deleted, its journal left behind
            Path(f"{tmp_path / 's.spool'}{suffix}").unlink(missing_ok=True)
        new = Spool(tmp_path / "s.spool")
        new.open_stream("desk", RUN)
        assert new.pending() == 0  # not sent under this spool's streams
        assert len(list(tmp_path.glob("s.spool.intake.orphan-*"))) == 1
        assert "held records of an older spool" in caplog.text

    def test_a_long_journal_is_absorbed_in_chunks(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(spool_module, "ABSORB_BYTES", 100)
        spool = Spool(tmp_path / "s.spool")
        stream = spool.open_stream("desk", RUN)
        spool.append_many(stream, [b"y" * 30] * 7 + [b"z" * 300])  # the last: one big record
        moved = [spool.absorb() for _ in range(6)]
        assert moved == [2, 2, 2, 1, 1, 0]
        assert bodies(spool) == [b"y" * 30] * 7 + [b"z" * 300]
