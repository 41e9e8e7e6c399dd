"""Which stored trade and part rows a re-derivation changes. Pure.

A re-derivation computes every trade of the slice again, but most of what it computes is
often what is stored already: after an instrument's multiplier changes every trade's money
changes and not one fill part does; a late fill changes the trades from its time on and
leaves the earlier parts of the slice as they were. Writing only the difference keeps the
write lock short and spares the indexes: an unchanged row is not written, a changed row
whose entry and exit times stand is updated in the columns no index covers, and only the
rest is inserted or deleted.

Rows are compared as the database driver binds them and returns them (a float on SQLite,
a Decimal on PostgreSQL, the `extra` JSON as its text), except for `updated_at`, which is
the time of the write and says when a trade last changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]
PartKey = tuple[int, int]  # (trade_id, execution_id)


@dataclass
class Changes:
    """What to write so that the stored rows become the derived ones."""

    delete: list[int] = field(default_factory=list)  # trades (and their parts) gone
    update: list[Row] = field(default_factory=list)  # same entry and exit times
    move: list[Row] = field(default_factory=list)  # entry or exit time changed
    insert: list[Row] = field(default_factory=list)  # trades not stored before
    delete_parts: list[PartKey] = field(default_factory=list)
    insert_parts: list[Row] = field(default_factory=list)
    unchanged: int = 0  # trades left as stored

    @property
    def written(self) -> int:
        """Trade and part rows the write touches."""
        return (
            len(self.delete) + len(self.update) + len(self.move) + len(self.insert)
            + len(self.delete_parts) + len(self.insert_parts)
        )  # fmt: skip


def diff(
    stored: Mapping[int, Row],
    stored_parts: Mapping[PartKey, Row],
    rows: Sequence[Row],
    parts: Sequence[Row],
    *,
    stamp: int,
    keys: tuple[int, int],
) -> Changes:
    """The changes that turn `stored` (trade rows by id, the column at `stamp` left out)
    and `stored_parts` ((trade_id, execution_id) -> (role, qty, commission)) into `rows`
    (trade rows, id first, the write time at `stamp`) and `parts` ((trade_id,
    execution_id, role, qty, commission)). `stored` holds every trade the new rows
    supersede, `stored_parts` every part of those trades; `keys` are the indexes of the
    entry and exit times in a row (before `stamp`)."""
    entry, exit_ = keys
    if not entry < stamp > exit_:
        raise ValueError(f"the time keys must come before the stamp, got {keys} and {stamp}")
    changes = Changes()
    new_ids = set()
    for row in rows:
        new_ids.add(row[0])
        old = stored.get(row[0])
        if old is None:
            changes.insert.append(row)
        elif old == row[:stamp] + row[stamp + 1 :]:
            changes.unchanged += 1
        elif old[entry] == row[entry] and old[exit_] == row[exit_]:
            changes.update.append(row)
        else:
            changes.move.append(row)
    changes.delete = sorted(set(stored) - new_ids)
    new_parts = {(p[0], p[1]): p for p in parts}
    for key, old_part in stored_parts.items():
        if key[0] not in new_ids:
            continue  # goes with its trade
        new = new_parts.get(key)
        if new is None or new[2:] != old_part:
            changes.delete_parts.append(key)
    for key, part in new_parts.items():
        was = stored_parts.get(key)
        if was is None or was != part[2:]:
            changes.insert_parts.append(part)
    return changes
