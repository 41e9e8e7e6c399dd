"""Reading the sample files the way the service does, for exact assertions."""

from __future__ import annotations

from pathlib import Path

from backend.imports import formats
from backend.imports.clock import zone
from backend.imports.model import Mapping, Parsed
from backend.imports.preview import Fill, resolve, validate
from backend.imports.text import decode

DATA = Path(__file__).parent / "data"
GENERIC_MAPPING = {"time": "When", "symbol": "Ticker", "side": "Side", "qty": "Contracts",
                   "price": "Fill", "commission": "Fees", "account": "Acct"}  # fmt: skip


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def detected(name: str) -> str | None:
    found = formats.detect(decode(sample(name)[:65536]))
    return None if found is None else found.id


def read(data: bytes, format_id: str, tz: str | None = None,
         mapping: Mapping | None = None) -> tuple[Parsed, list[Fill], list[tuple[int, str]]]:  # fmt: skip
    """The parse, the fills the ingest contract accepts, and every skipped (row, reason)."""
    fmt = formats.get(format_id)
    parsed = fmt.parse(data, mapping)
    fills, refused = resolve(parsed, fmt.id, zone(tz or fmt.default_tz))
    _, kept, invalid = validate(fills)
    skipped = sorted((s.row, s.reason) for s in parsed.skipped + refused + invalid)
    return parsed, kept, skipped


def rows(fills: list[Fill]) -> list[tuple[object, ...]]:
    return [(f.row, f.execution_id, f.time, f.symbol, f.side, f.qty, f.price, f.commission,
             f.account) for f in fills]  # fmt: skip
