"""Quantower trades history (Trades panel > Export), CSV. Pure.

Columns `Account, Date/Time, Symbol, Description, Symbol type, Expiration date, Strike
price, Side, Order type, Quantity, Price, Gross P/L, Fee, Net P/L, Trade ID, Order ID,
Position ID, ...`. `Trade ID` is the fill's id; `Fee` is written negative (a cost);
`Date/Time` is the platform's time zone (General settings), so tz applies.
"""

from __future__ import annotations

from backend.imports.formats.tabular import parse_table
from backend.imports.model import InstrumentInfo, Parsed, RawFill, RowError
from backend.imports.text import header_of, number, optional_number, parse_time, side

NOTES = "Trades history export; ids are Quantower's trade ids; times need tz."
REQUIRED = ("Date/Time", "Symbol", "Side", "Quantity", "Price", "Trade ID")
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S.%f")  # fmt: skip
_ASSET = {"futures": "future", "future": "future", "options": "option", "option": "option",
          "equities": "stock", "stock": "stock", "forex": "forex", "crypto": "crypto",
          "cfd": "cfd"}  # fmt: skip


def detect(head: str) -> bool:
    columns = set(header_of(head))
    return {"Date/Time", "Trade ID", "Side", "Symbol type"} <= columns or (
        {"Date/Time", "Trade ID", "Position ID"} <= columns)


def _record(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    symbol = values["Symbol"]
    if not symbol:
        raise RowError("Symbol: is empty")
    parsed.fills.append(RawFill(
        row=row, when=parse_time(values["Date/Time"], TIME_FORMATS, "Date/Time"),
        symbol=symbol, side=side(values["Side"], "Side"),
        qty=abs(number(values["Quantity"], "Quantity")), price=number(values["Price"], "Price"),
        commission=abs(optional_number(values.get("Fee"), "Fee")),
        account=values.get("Account", ""), broker_id=values["Trade ID"] or None,
        order_id=values.get("Order ID") or None,
    ))  # fmt: skip
    parsed.note_instrument(InstrumentInfo(
        symbol, asset_class=_ASSET.get(values.get("Symbol type", "").strip().lower())))


def parse(data: bytes) -> Parsed:
    return parse_table(data, REQUIRED, _record)
