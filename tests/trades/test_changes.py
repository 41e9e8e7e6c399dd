"""changes.diff: only the rows that differ are written."""

from __future__ import annotations

from typing import Any

import pytest

from backend.trades.changes import diff

# (id, entry_ts, exit_ts, net, stamp): the time keys at 1 and 2, the stamp at 4
STAMP, KEYS = 4, (1, 2)


def row(pk: int, entry: int, exit_: int | None, net: float, stamp: str = "new") -> tuple[Any, ...]:
    return (pk, entry, exit_, net, stamp)


def stored(*rows: tuple[Any, ...]) -> dict[int, tuple[Any, ...]]:
    return {r[0]: r[:STAMP] + r[STAMP + 1 :] for r in rows}


class TestDiff:
    def test_unchanged_rows_and_parts_are_not_written(self) -> None:
        old = stored(row(1, 10, 20, 5.0, "old"), row(3, 30, None, 0.0, "old"))
        parts = {(1, 1): ("entry", 1.0, 0.5), (1, 2): ("exit", 1.0, 0.5)}
        changes = diff(
            old, parts, [row(1, 10, 20, 5.0), row(3, 30, None, 0.0)],
            [(1, 1, "entry", 1.0, 0.5), (1, 2, "exit", 1.0, 0.5)], stamp=STAMP, keys=KEYS,
        )  # fmt: skip
        assert changes.unchanged == 2
        assert changes.written == 0

    def test_money_changed_is_an_update_times_changed_a_move(self) -> None:
        old = stored(row(1, 10, 20, 5.0), row(3, 30, None, 0.0), row(7, 70, 80, 1.0))
        changes = diff(
            old, {}, [row(1, 10, 20, 10.0), row(3, 30, 35, 2.0), row(7, 71, 80, 1.0)], [],
            stamp=STAMP, keys=KEYS,
        )  # fmt: skip
        assert changes.update == [row(1, 10, 20, 10.0)]
        assert changes.move == [row(3, 30, 35, 2.0), row(7, 71, 80, 1.0)]
        assert (changes.insert, changes.delete, changes.unchanged) == ([], [], 0)

    def test_new_trades_are_inserted_and_vanished_ones_deleted(self) -> None:
        old = stored(row(1, 10, 20, 5.0), row(3, 30, 40, 1.0))
        parts = {(3, 3): ("entry", 2.0, 0.5), (3, 4): ("exit", 2.0, 0.5)}
        changes = diff(
            old, parts, [row(1, 10, 20, 5.0), row(4, 40, 50, 1.0)],
            [(4, 4, "entry", 2.0, 0.5), (4, 5, "exit", 2.0, 0.5)], stamp=STAMP, keys=KEYS,
        )  # fmt: skip
        assert changes.insert == [row(4, 40, 50, 1.0)]
        assert changes.delete == [3]
        # The parts of trade 3 go with it, not one by one.
        assert changes.delete_parts == []
        assert changes.insert_parts == [(4, 4, "entry", 2.0, 0.5), (4, 5, "exit", 2.0, 0.5)]

    def test_a_changed_part_is_replaced_and_a_gone_one_deleted(self) -> None:
        old = stored(row(1, 10, 30, 5.0))
        parts = {(1, 1): ("entry", 2.0, 0.5), (1, 2): ("exit", 1.0, 0.25),
                 (1, 3): ("exit", 1.0, 0.25)}  # fmt: skip
        changes = diff(
            old, parts, [row(1, 10, 20, 5.0)],
            [(1, 1, "entry", 2.0, 0.5), (1, 2, "exit", 2.0, 0.5)], stamp=STAMP, keys=KEYS,
        )  # fmt: skip
        assert changes.delete_parts == [(1, 2), (1, 3)]
        assert changes.insert_parts == [(1, 2, "exit", 2.0, 0.5)]
        assert changes.move == [row(1, 10, 20, 5.0)]

    def test_time_keys_after_the_stamp_are_refused(self) -> None:
        with pytest.raises(
            ValueError, match=r"the time keys must come before the stamp, got \(1, 5\) and 4"
        ):
            diff({}, {}, [], [], stamp=4, keys=(1, 5))
