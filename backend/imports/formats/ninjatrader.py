"""NinjaTrader 8 executions (Control Center > Executions grid > Export), CSV. Pure.

Columns `Instrument, Action, Quantity, Price, Time, ID, E/X, Position, Order ID, Name,
Commission, Rate, Account, Connection`. `ID` is NinjaTrader's execution id; `Time` is
the platform's wall clock (Tools > Options > General > Time zone), written in the PC's
culture (`12/15/2023 9:30:01 AM` in en-US, `15.12.2023 09:30:01` in de-DE); `Commission`
carries a currency sign (`$0.62`). Instruments are NinjaTrader names (`MES 12-23`); the
file has no point values, so multipliers come from the instrument table.
"""

from __future__ import annotations

from backend.imports.formats.tabular import parse_table
from backend.imports.model import InstrumentInfo, Parsed, RawFill, RowError
from backend.imports.text import header_of, number, optional_number, parse_time, side

NOTES = ("Executions grid export; times are the platform's time zone setting, so pass tz; "
         "ids are NinjaTrader's execution ids.")  # fmt: skip
REQUIRED = ("Instrument", "Action", "Quantity", "Price", "Time", "ID")
TIME_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S")  # fmt: skip


def detect(head: str) -> bool:
    columns = set(header_of(head))
    return {"Instrument", "Action", "E/X", "ID"} <= columns


def _record(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    symbol = values["Instrument"]
    if not symbol:
        raise RowError("Instrument: is empty")
    decimal_comma = "," in values["Price"] and "." not in values["Price"]
    parsed.fills.append(RawFill(
        row=row, when=parse_time(values["Time"], TIME_FORMATS, "Time"), symbol=symbol,
        side=side(values["Action"], "Action"),
        qty=abs(number(values["Quantity"], "Quantity")),
        price=number(values["Price"], "Price", decimal_comma=decimal_comma),
        commission=abs(optional_number(values.get("Commission"), "Commission")),
        account=values.get("Account", ""), broker_id=values["ID"] or None,
        order_id=values.get("Order ID") or None,
    ))  # fmt: skip
    parsed.note_instrument(InstrumentInfo(symbol, asset_class="future" if " " in symbol else None))


def parse(data: bytes) -> Parsed:
    return parse_table(data, REQUIRED, _record)
