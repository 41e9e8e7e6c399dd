"""Any CSV of fills, read through a column mapping (the CLI's `--map`, in the browser). Pure.

The mapping names the column of each field: `time`, `symbol`, `qty`, `price` are needed;
`side` (else a negative `qty` is a sell), `commission`, `execution_id`, `account`,
`order_id` are optional. Times are ISO-8601 or `date_format` (strptime); a time without
an offset is a wall-clock time of tz.
"""

from __future__ import annotations

import datetime as dt

from backend.imports.formats.tabular import parse_table
from backend.imports.model import FileError, InstrumentInfo, Mapping, Parsed, RawFill, RowError
from backend.imports.text import decode, number, optional_number, side, table

NOTES = "Any CSV: pick the columns of time, symbol, side, qty, price (and commission, id)."


def detect(head: str) -> bool:  # noqa: ARG001 (the fallback for every CSV)
    return True


def columns(data: bytes) -> list[str]:
    try:
        return table(decode(data))[0]
    except FileError:
        return []


def _time(text: str, date_format: str | None) -> dt.datetime:
    value = text.strip()
    try:
        if date_format:
            return dt.datetime.strptime(value, date_format)  # noqa: DTZ007 (zone applied later)
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        expected = f"the format {date_format!r}" if date_format else "ISO-8601"
        raise RowError(f"time: cannot read {text!r} as a time ({expected})") from None


def parse(data: bytes, mapping: Mapping | None) -> Parsed:
    if mapping is None or mapping.missing():
        return Parsed(columns=columns(data))
    cols = mapping.columns

    def record(parsed: Parsed, row: int, values: dict[str, str]) -> None:
        symbol = values[cols["symbol"]]
        if not symbol:
            raise RowError(f"symbol (column {cols['symbol']!r}): is empty")
        qty = number(values[cols["qty"]], "qty")
        if cols.get("side"):
            kind = side(values[cols["side"]], "side")
        else:
            kind = "sell" if qty < 0 else "buy"
        parsed.fills.append(RawFill(
            row=row, when=_time(values[cols["time"]], mapping.date_format), symbol=symbol,
            side=kind, qty=abs(qty), price=number(values[cols["price"]], "price"),
            commission=abs(optional_number(values.get(cols.get("commission", "")),
                                           "commission")),
            account=values.get(cols.get("account", ""), ""),
            broker_id=values.get(cols.get("execution_id", "")) or None,
            order_id=values.get(cols.get("order_id", "")) or None,
        ))  # fmt: skip
        parsed.note_instrument(InstrumentInfo(symbol))

    used = tuple(column for column in cols.values() if column)
    return parse_table(data, used, record)
