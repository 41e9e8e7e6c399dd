"""Adherence scores (pure): how much of a checklist a trader followed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


def trade_adherence(followed: Iterable[bool]) -> float | None:
    """Rules followed / rules ticked; None when no rule is ticked."""
    ticks = list(followed)
    return sum(ticks) / len(ticks) if ticks else None


def playbook_adherence(ticks: Iterable[tuple[int, int, bool]]) -> dict[int, float]:
    """Per playbook, the mean adherence of its trades that have a tick, from
    (playbook id, trade id, followed) ticks."""
    by_trade: dict[int, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for playbook_id, trade_id, followed in ticks:
        by_trade[playbook_id][trade_id].append(followed)
    result: dict[int, float] = {}
    for playbook_id, trades in by_trade.items():
        scores = [trade_adherence(t) for t in trades.values()]
        result[playbook_id] = sum(s for s in scores if s is not None) / len(scores)
    return result
