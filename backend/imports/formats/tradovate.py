"""Tradovate exports, CSV. Pure.

- Fills (Account > Fills, Download): API columns (`id, orderId, contractId, timestamp,
  tradeDate, action, qty, price, ...`) beside display columns (`Fill ID, Order ID,
  Timestamp, Date, Account, B/S, Quantity, Price, Contract, Product, commission`).
  `Fill ID` (or `id`) is the fill's id. `timestamp` is ISO-8601 UTC when present;
  the display `Timestamp` is the browser's wall clock.
- Orders (Orders, Download): one row per order (`orderId, Account, Order ID, B/S,
  Contract, Product, avgPrice, filledQty, Fill Time, Status, _tickSize, ...`); a filled
  order becomes one fill of `filledQty` at `avgPrice` at `Fill Time` (wall clock), id
  from `orderId`. Orders carry no commissions.
"""

from __future__ import annotations

import datetime as dt

from backend.imports.formats.tabular import parse_table
from backend.imports.model import InstrumentInfo, Parsed, RawFill, RowError, Skip
from backend.imports.text import header_of, number, optional_number, parse_time, side

FILLS_NOTES = "Fills download; ids are Tradovate's fill ids; display times need tz."
ORDERS_NOTES = ("Orders download: one fill per filled order at its average price; no "
                "commissions in this export (use the fills export for them); pass tz.")  # fmt: skip
TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M",
                "%Y-%m-%d %H:%M:%S")  # fmt: skip


def detect_fills(head: str) -> bool:
    columns = set(header_of(head))
    return {"B/S", "Contract"} <= columns and bool({"Fill ID", "fillId"} & columns)


def detect_orders(head: str) -> bool:
    columns = set(header_of(head))
    return {"orderId", "B/S", "Contract", "avgPrice", "Fill Time"} <= columns


def _iso_utc(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _fill(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    when = _iso_utc(values.get("timestamp", "")) or parse_time(
        values.get("Timestamp", ""), TIME_FORMATS, "Timestamp")
    symbol = values.get("Contract", "")
    if not symbol:
        raise RowError("Contract: is empty")
    parsed.fills.append(RawFill(
        row=row, when=when, symbol=symbol, side=side(values["B/S"], "B/S"),
        qty=abs(number(values.get("Quantity") or values.get("qty", ""), "Quantity")),
        price=number(values.get("Price") or values.get("price", ""), "Price"),
        commission=abs(optional_number(values.get("commission"), "commission")),
        account=values.get("Account", ""),
        broker_id=values.get("Fill ID") or values.get("id") or None,
        order_id=values.get("Order ID") or values.get("orderId") or None,
    ))  # fmt: skip
    tick = values.get("tickSize") or values.get("_tickSize")
    parsed.note_instrument(InstrumentInfo(
        symbol, tick_size=number(tick, "tickSize") if tick else None, asset_class="future"))


def _order(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    status = values.get("Status", "").strip()
    if status != "Filled":
        parsed.skipped.append(Skip(row, f"order status {status or 'empty'!r}: not filled"))
        return
    symbol = values["Contract"]
    parsed.fills.append(RawFill(
        row=row, when=parse_time(values["Fill Time"], TIME_FORMATS, "Fill Time"),
        symbol=symbol, side=side(values["B/S"], "B/S"),
        qty=abs(number(values.get("filledQty") or values.get("Filled Qty", ""), "filledQty")),
        price=number(values.get("avgPrice") or values.get("Avg Fill Price", ""), "avgPrice"),
        account=values.get("Account", ""), broker_id=values["orderId"] or None,
        order_id=values["orderId"] or None,
    ))  # fmt: skip
    tick = values.get("_tickSize")
    parsed.note_instrument(InstrumentInfo(
        symbol, tick_size=number(tick, "_tickSize") if tick else None, asset_class="future"))


def parse_fills(data: bytes) -> Parsed:
    return parse_table(data, ("B/S", "Contract"), _fill)


def parse_orders(data: bytes) -> Parsed:
    parsed = parse_table(data, ("orderId", "B/S", "Contract", "Fill Time", "Status"), _order)
    if parsed.fills:
        parsed.warnings.append("Tradovate's orders export has no commissions: the fills "
                               "are stored with commission 0 (the fills export has "
                               "them)")  # fmt: skip
    return parsed
