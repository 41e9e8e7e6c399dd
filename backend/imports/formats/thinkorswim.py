"""thinkorswim / Schwab account statement (Monitor > Account Statement > Export), CSV. Pure.

One file of sections, each a title line, a header and rows. Fills come from `Account
Trade History` (`,Exec Time,Spread,Side,Qty,Pos Effect,Symbol,Exp,Strike,Type,Price,Net
Price,Order Type`), newest first: they are read oldest first; a spread's legs after the
first leave `Exec Time` empty and share the first leg's time. `Qty` is signed (`+2`,
`-2`). Options keep their whole contract (`SPY 231215C470`: underlying, expiry, C/P,
strike); futures are written `/MESZ23` and stored without the slash. The trade history
has no commissions and no ids: commissions come from the `TRD` rows of `Cash Balance`
and `Futures Statements` (`Commissions & Fees` plus `Misc Fees`, written negative)
matched on the same date and time, one per order; ids are derived from the rows.
Times are the platform's wall clock, so tz applies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from backend.imports.model import FileError, InstrumentInfo, Parsed, RawFill, RowError, Skip
from backend.imports.text import csv_rows, decode, number, optional_number, parse_time, side

NOTES = ("Account Statement export; fills from Account Trade History, commissions matched "
         "from Cash Balance and Futures Statements; no ids in the file; pass tz.")  # fmt: skip
TIME_FORMATS = ("%m/%d/%y %H:%M:%S", "%m/%d/%Y %H:%M:%S")
_TRADES = "Account Trade History"


def detect(head: str) -> bool:
    return "Account Statement for" in head[:2048] or (
        ",Exec Time,Spread,Side,Qty,Pos Effect,Symbol" in head)


def _contract(values: dict[str, str]) -> tuple[str, InstrumentInfo]:
    symbol, kind = values["Symbol"].strip(), values["Type"].strip().upper()
    if not symbol:
        raise RowError("Symbol: is empty")
    if kind in ("CALL", "PUT"):
        try:
            expiry = dt.datetime.strptime(values["Exp"].strip().title(), "%d %b %y")  # noqa: DTZ007
        except ValueError:
            raise RowError(f"Exp: cannot read {values['Exp']!r} as an expiry (15 DEC 23)") from None
        strike = number(values["Strike"], "Strike")
        name = f"{symbol} {expiry:%y%m%d}{kind[0]}{strike:g}"
        if symbol.startswith("/"):
            return name.lstrip("./"), InstrumentInfo(name.lstrip("./"), asset_class="option")
        return name, InstrumentInfo(name, multiplier=100.0, asset_class="option")
    if symbol.startswith("/") or kind == "FUTURE":
        return symbol.lstrip("/"), InstrumentInfo(symbol.lstrip("/"), asset_class="future")
    return symbol, InstrumentInfo(symbol, multiplier=1.0, asset_class="stock")


def parse(data: bytes) -> Parsed:
    parsed = Parsed()
    section, header = "", None
    costs: dict[str, list[float]] = defaultdict(list)
    trades: list[tuple[int, dict[str, str]]] = []
    for line, cells in csv_rows(decode(data), ","):
        filled = [c for c in cells if c.strip()]
        if len(filled) == 1 and len(cells) <= 2 and not cells[0].startswith(" "):
            section, header = filled[0].strip(), None
            continue
        if header is None:
            header = [c.strip() for c in cells]
            if section == _TRADES:
                parsed.columns = header
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in
                  enumerate(header)}  # fmt: skip
        if section == _TRADES:
            trades.append((line, values))
        elif section in ("Cash Balance", "Futures Statements") and (
                values.get("TYPE") or values.get("Type")) == "TRD":
            day = values.get("DATE") or values.get("Exec Date", "")
            clock = values.get("TIME") or values.get("Exec Time", "")
            cost = optional_number(values.get("Commissions & Fees"), "Commissions & Fees") + (
                optional_number(values.get("Misc Fees"), "Misc Fees"))
            costs[f"{day} {clock}"].append(-cost)
    if not trades and not parsed.columns:
        raise FileError(f"the statement has no {_TRADES} section")
    previous = ""
    unmatched = 0
    rows: list[tuple[int, dict[str, str]]] = []
    for line, values in trades:  # legs inherit the time of the row above (newest first)
        values["Exec Time"] = values.get("Exec Time") or previous
        previous = values["Exec Time"]
        rows.append((line, values))
    for line, values in reversed(rows):
        parsed.rows_total += 1
        try:
            symbol, info = _contract(values)
            fill = RawFill(
                row=line, when=parse_time(values["Exec Time"], TIME_FORMATS, "Exec Time"),
                symbol=symbol, side=side(values["Side"], "Side"),
                qty=abs(number(values["Qty"], "Qty")), price=number(values["Price"], "Price"),
            )  # fmt: skip
        except RowError as exc:
            parsed.skipped.append(Skip(line, str(exc)))
            continue
        found = costs.get(values["Exec Time"])
        if found:
            fill.commission = max(0.0, found.pop(0))
        else:
            unmatched += 1
        parsed.fills.append(fill)
        parsed.note_instrument(info)
    if unmatched:
        parsed.warnings.append(f"{unmatched} fills have no Cash Balance or Futures Statements "
                               "row at their time: their commission is 0")  # fmt: skip
    if any(i.asset_class == "option" and i.multiplier == 100 for i in parsed.instruments.values()):
        parsed.warnings.append("equity options are given multiplier 100 (the standard US "
                               "contract; the statement does not say it)")  # fmt: skip
    return parsed
