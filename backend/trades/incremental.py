"""Which stored trades a change invalidates, and from where to replay fills. Pure.

Given the trades stored for one position and the earliest time a batch touched
(`from_ts`), every trade that is still open or ends at or after `from_ts` is
rebuilt; trades that ended before it stand. Fills are replayed from the earlier
of `from_ts` and the first rebuilt trade's entry, where the position is flat.

One exception: the first rebuilt trade may have been opened by a fill that
crossed zero, before `from_ts`. That fill is unchanged (anything touching it
would have moved `from_ts` to its time), so its opening part, as stored, seeds
the replay, which goes on with the fills after it. This keeps a rebuild local
even for strategies that are always in the market (stop and reverse).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredTrade:
    id: int  # the seq of its first fill
    entry_ts: int
    exit_ts: int | None
    opened_by_crossing: bool  # its first fill also closed the previous trade


@dataclass(frozen=True)
class RebuildPlan:
    replace: list[int]  # ids of the stored trades to delete
    replay_after: tuple[int, int]  # replay fills whose (ts, seq) is >= this key...
    seed_trade: int | None  # ...or, when set, seed this trade's crossing fill and replay after it


def plan_rebuild(trades: Sequence[StoredTrade], from_ts: int) -> RebuildPlan:
    affected = sorted(
        (t for t in trades if t.exit_ts is None or t.exit_ts >= from_ts),
        key=lambda t: (t.entry_ts, t.id),
    )
    if not affected:
        return RebuildPlan([], (from_ts, 0), None)
    first = affected[0]
    replace = [t.id for t in affected]
    if first.opened_by_crossing and first.entry_ts < from_ts:
        return RebuildPlan(replace, (first.entry_ts, first.id), first.id)
    return RebuildPlan(replace, min((from_ts, 0), (first.entry_ts, first.id)), None)
