"""A validated batch on its way to the writer, and what storing it produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from backend.ingest.schemas import RunRef


def raw_text(value: Any) -> str:
    """An event's raw form as JSON text, whatever MessagePack decoded it into.

    Bytes, extension types and timestamps have no JSON form; they are kept as
    their text representation so that the dead letter is stored, not a 500.
    """
    try:
        return orjson.dumps(value, default=_jsonable, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # a key orjson cannot write (bytes, a tuple): rename every key
        return orjson.dumps(_plain(value), default=_jsonable).decode()


def _jsonable(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    return repr(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else _jsonable(key): _plain(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Rejection:
    """An event kept in the dead-letter table: where it was, what it was, and why."""

    index: int
    event_id: str | None
    event_type: str | None
    raw: str
    error: str

    def as_response(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.event_id, "error": self.error}


@dataclass
class PreparedBatch:
    user_id: int
    source: str
    run: RunRef
    events: list[tuple[int, Mapping[str, Any]]]  # (index in the batch, validated event)
    rejected: list[Rejection]
    raw_events: list[Any] | None = None  # decoded events, kept to dead-letter late rejections


@dataclass(frozen=True)
class PositionKey:
    run_id: int
    account: str
    symbol: str


@dataclass
class StoredBatch:
    """The outcome of one batch: the response counts and what later work must look at."""

    run_id: int
    user_id: int
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    positions: dict[PositionKey, int] = field(default_factory=dict)  # → earliest touched ts
    bar_symbols: set[str] = field(default_factory=set)
    run_ended: bool = False
    accounts: set[tuple[int, str]] = field(default_factory=set)  # (user, name) made now
    cash_accounts: set[str] = field(default_factory=set)  # accounts whose cash flows changed

    def response(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_response() for r in sorted(self.rejected, key=lambda r: r.index)],
        }

    def notification(self) -> dict[str, Any]:
        """What live clients hear about this batch."""
        return {
            "type": "ingested",
            "run_id": self.run_id,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "symbols": sorted({key.symbol for key in self.positions} | self.bar_symbols),
            "run_ended": self.run_ended,
        }

    def touch(self, key: PositionKey, ts: int) -> None:
        earliest = self.positions.get(key)
        if earliest is None or ts < earliest:
            self.positions[key] = ts
