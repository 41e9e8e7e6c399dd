"""The formats Fillbook reads, each a small parser module, and detection. Pure.

Each parser turns a file's bytes into `Parsed` (fills with the file's own times and
ids, the instruments it names, the rows it skips and why). Time zones, execution ids
and the ingest contract are applied afterwards, the same way for every format
(backend/imports/preview.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backend.imports.formats import (
    generic,
    ibkr,
    metatrader5,
    ninjatrader,
    quantower,
    thinkorswim,
    tradestation,
    tradovate,
)
from backend.imports.model import FileError, Mapping, Parsed


@dataclass(frozen=True)
class Format:
    id: str
    label: str
    extensions: tuple[str, ...]
    notes: str
    detect: Callable[[str], bool]  # on the decoded text's first 64 KiB
    parse: Callable[[bytes, Mapping | None], Parsed]
    default_tz: str | None = None  # the zone the format's times are in, when it is fixed
    local_times: bool = True  # wall-clock times (a zone applies), else every time has an offset


def _ignore_mapping(parse: Callable[[bytes], Parsed]) -> Callable[[bytes, Mapping | None], Parsed]:
    def run(data: bytes, mapping: Mapping | None) -> Parsed:  # noqa: ARG001 (one signature)
        return parse(data)

    return run


FORMATS: tuple[Format, ...] = (
    Format("ibkr_flex_xml", "Interactive Brokers Flex Query (XML)", ("xml",), ibkr.NOTES,
           ibkr.detect_xml, _ignore_mapping(ibkr.parse_xml), default_tz="America/New_York"),
    Format("ibkr_flex_csv", "Interactive Brokers Flex Query (CSV)", ("csv",), ibkr.NOTES,
           ibkr.detect_csv, _ignore_mapping(ibkr.parse_csv), default_tz="America/New_York"),
    Format("ninjatrader8", "NinjaTrader 8 executions", ("csv",), ninjatrader.NOTES,
           ninjatrader.detect, _ignore_mapping(ninjatrader.parse)),
    Format("tradovate_fills", "Tradovate fills", ("csv",), tradovate.FILLS_NOTES,
           tradovate.detect_fills, _ignore_mapping(tradovate.parse_fills)),
    Format("tradovate_orders", "Tradovate orders", ("csv",), tradovate.ORDERS_NOTES,
           tradovate.detect_orders, _ignore_mapping(tradovate.parse_orders)),
    Format("quantower", "Quantower trades history", ("csv",), quantower.NOTES,
           quantower.detect, _ignore_mapping(quantower.parse)),
    Format("metatrader5", "MetaTrader 5 deals report", ("html", "htm", "csv"),
           metatrader5.NOTES, metatrader5.detect, _ignore_mapping(metatrader5.parse)),
    Format("thinkorswim", "thinkorswim / Schwab account statement", ("csv",),
           thinkorswim.NOTES, thinkorswim.detect, _ignore_mapping(thinkorswim.parse)),
    Format("tradestation", "TradeStation orders", ("csv",), tradestation.NOTES,
           tradestation.detect, _ignore_mapping(tradestation.parse)),
    Format("generic_csv", "CSV with a column mapping", ("csv", "txt"), generic.NOTES,
           generic.detect, generic.parse),
)  # fmt: skip
BY_ID = {fmt.id: fmt for fmt in FORMATS}
GENERIC = BY_ID["generic_csv"]


def get(format_id: str) -> Format:
    found = BY_ID.get(format_id)
    if found is None:
        raise FileError(f"format: unknown format {format_id!r}; known: {', '.join(BY_ID)}")
    return found


def detect(head: str) -> Format | None:
    """The first specific format whose signature the file's start carries (not the mapper)."""
    for fmt in FORMATS:
        if fmt is not GENERIC and fmt.detect(head):
            return fmt
    return None
