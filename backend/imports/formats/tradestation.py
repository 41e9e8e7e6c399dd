"""TradeStation order history (Orders window > Export), CSV. Pure.

A title line, then a header with `Symbol, Type, Qty, Qty Filled, Filled Price, Order
Status, Entered, Filled, Commission, Account, Order #, Contract Exp Date, ...`. Rows with
`Order Status` `Filled` (or `Partially Filled`) become one fill of `Qty Filled` at `Filled
Price`, at the `Filled` time (else `Entered`), the PC's wall clock (`12/15/23 9:30:01 AM`).
`Type` says the side (`Buy`, `Sell Short`, `Buy to Cover`, `Sell to Close`...); `Order #`
is the id. Commission as written (`$1.50`).
"""

from __future__ import annotations

from backend.imports.formats.tabular import parse_table
from backend.imports.model import FileError, InstrumentInfo, Parsed, RawFill, RowError, Skip
from backend.imports.text import decode, number, optional_number, parse_time, side

NOTES = "Orders window export (filled orders); times are the PC's time zone, so pass tz."
REQUIRED = ("Symbol", "Type", "Qty Filled", "Filled Price", "Order Status", "Entered")
TIME_FORMATS = ("%m/%d/%y %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %H:%M:%S",
                "%m/%d/%Y %H:%M:%S", "%m/%d/%y %I:%M %p")  # fmt: skip


def _header_line(text: str) -> int | None:
    for index, line in enumerate(text.splitlines()[:5]):
        if "Order Status" in line and "Filled Price" in line:
            return index
    return None


def detect(head: str) -> bool:
    return _header_line(head) is not None and "Qty Filled" in head


def _record(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    status = values["Order Status"].strip()
    if status not in ("Filled", "Partially Filled", "Partial Fill"):
        parsed.skipped.append(Skip(row, f"order status {status or 'empty'!r}: not filled"))
        return
    symbol = values["Symbol"].strip()
    if not symbol:
        raise RowError("Symbol: is empty")
    kind = values["Type"].strip()
    when = values.get("Filled", "").strip() or values["Entered"]
    parsed.fills.append(RawFill(
        row=row, when=parse_time(when, TIME_FORMATS, "Filled"), symbol=symbol,
        side=side(kind, "Type"), qty=abs(number(values["Qty Filled"], "Qty Filled")),
        price=number(values["Filled Price"], "Filled Price"),
        commission=abs(optional_number(values.get("Commission"), "Commission")),
        account=values.get("Account", ""), broker_id=values.get("Order #") or None,
        order_id=values.get("Order #") or None,
    ))  # fmt: skip
    asset = "option" if "to Open" in kind or "to Close" in kind else (
        "future" if values.get("Contract Exp Date", "").strip() else None)
    parsed.note_instrument(InstrumentInfo(symbol, asset_class=asset))


def parse(data: bytes) -> Parsed:
    text = decode(data)
    start = _header_line(text)
    if start is None:
        raise FileError("no TradeStation header (with Order Status and Filled Price) in the "
                        "first 5 lines")  # fmt: skip
    lines = text.splitlines(keepends=True)
    parsed = parse_table(data, REQUIRED, _record, text="".join(lines[start:]))
    for fill in parsed.fills:  # lines were counted from the header; count from the file's top
        fill.row += start
    for skip in parsed.skipped:
        skip.row += start
    return parsed
