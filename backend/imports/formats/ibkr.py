"""Interactive Brokers Flex Query trades, XML (`<FlexQueryResponse>`) and CSV. Pure.

Read per execution (`levelOfDetail` EXECUTION; ORDER, CLOSED_LOT and summary rows are
skipped): `ibExecID` is the execution id (`tradeID` when the query has no exec id),
`quantity` is signed and `buySell` says the side (`... (Ca.)`: a cancelled trade, skipped),
`ibCommission` (IB writes costs negative) plus `taxes` is the commission, `multiplier`
and `currency` describe the instrument. `dateTime` is `yyyyMMdd;HHmmss` by default (the
query's date and time formats and separator are configurable; the common ones are read);
IB writes Eastern Time. XML and CSV name their fields differently (`buySell` and
`Buy/Sell`); both are read by one set of normalized names, so both give the same ids.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from backend.imports.model import (
    FileError,
    InstrumentInfo,
    Parsed,
    RawFill,
    RowError,
    Side,
    Skip,
)
from backend.imports.text import csv_rows, decode, number, optional_number

NOTES = ("Flex Query with the Trades (or Trade Confirmation) section at Execution level; "
         "times are Eastern Time; ids are IB's execution ids.")  # fmt: skip
_ASSET = {"STK": "stock", "OPT": "option", "FUT": "future", "FOP": "option",
          "CASH": "forex", "CFD": "cfd", "WAR": "option", "BOND": "bond",
          "FUND": "stock"}  # fmt: skip
_ALIASES = {"clientaccountid": "accountid", "currencyprimary": "currency",
            "assetclass": "assetcategory", "price": "tradeprice", "commission": "ibcommission",
            "execid": "ibexecid", "orderid": "iborderid", "tax": "taxes"}  # fmt: skip


def _key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return _ALIASES.get(key, key)


def detect_xml(head: str) -> bool:
    return "<FlexQueryResponse" in head[:4096]


def detect_csv(head: str) -> bool:
    first = next((line for line in head.splitlines()[:5] if line.strip()), "")
    keys = {_key(cell.strip('" ')) for cell in first.split(",")}
    if first.startswith(("BOF", '"BOF"')):
        keys = {_key(c.strip('" ')) for line in head.splitlines()[:12] if "HEADER" in line
                for c in line.split(",")}  # fmt: skip
    return "accountid" in keys and "buysell" in keys and bool(keys & {"ibexecid", "tradeid"})


def _when(record: dict[str, str]) -> dt.datetime:
    text = record.get("datetime") or ""
    if not text and record.get("tradedate"):
        text = f"{record['tradedate']};{record.get('tradetime', '000000')}"
    parts = [p for p in re.split(r"[;, ]+", text.strip()) if p]
    if len(parts) != 2:
        raise RowError(f"dateTime: cannot read {text!r} as a date and time")
    day, clock = parts
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"):
        try:
            date = dt.datetime.strptime(day, fmt).date()  # noqa: DTZ007 (a date only)
            break
        except ValueError:
            continue
    else:
        raise RowError(f"dateTime: cannot read the date {day!r}")
    for fmt in ("%H%M%S", "%H:%M:%S", "%H%M", "%H:%M"):
        try:
            time = dt.datetime.strptime(clock, fmt).time()  # noqa: DTZ007 (a time only)
            break
        except ValueError:
            continue
    else:
        raise RowError(f"dateTime: cannot read the time {clock!r}")
    return dt.datetime.combine(date, time)


def _record(parsed: Parsed, row: int, record: dict[str, str]) -> None:
    detail = record.get("levelofdetail", "EXECUTION").upper()
    if detail and detail != "EXECUTION":
        parsed.skipped.append(Skip(row, f"levelOfDetail {detail}: not an execution"))
        return
    buy_sell = record.get("buysell", "").upper()
    if "(CA.)" in buy_sell.replace(" ", "") or record.get("transactiontype", "") == "TradeCancel":
        parsed.skipped.append(Skip(row, "a cancelled trade (Ca.)"))
        return
    symbol = " ".join(record.get("symbol", "").split())
    if not symbol:
        raise RowError("symbol: is empty")
    qty = number(record.get("quantity", ""), "quantity")
    side: Side
    if buy_sell.startswith("BUY"):
        side = "buy"
    elif buy_sell.startswith("SELL"):
        side = "sell"
    elif qty:
        side = "buy" if qty > 0 else "sell"
    else:
        raise RowError(f"buySell: expected BUY or SELL, got {record.get('buysell', '')!r}")
    cost = optional_number(record.get("ibcommission"), "ibCommission") + optional_number(
        record.get("taxes"), "taxes"
    )
    exec_id = record.get("ibexecid") or record.get("tradeid") or None
    fill = RawFill(
        row=row, when=_when(record), symbol=symbol, side=side, qty=abs(qty),
        price=number(record.get("tradeprice", ""), "tradePrice"), commission=-cost,
        account=record.get("accountid", ""), broker_id=exec_id,
        order_id=record.get("iborderid") or None,
    )  # fmt: skip
    if fill.commission < 0:
        parsed.warnings.append(f"row {row}: a commission rebate of {-fill.commission:g} is "
                               "stored as 0 (commissions are at least 0)")  # fmt: skip
        fill.commission = 0.0
    parsed.fills.append(fill)
    multiplier = record.get("multiplier", "")
    parsed.note_instrument(InstrumentInfo(
        symbol, multiplier=number(multiplier, "multiplier") if multiplier else None,
        currency=record.get("currency") or None,
        asset_class=_ASSET.get(record.get("assetcategory", "").upper()),
    ))  # fmt: skip


def _add(parsed: Parsed, row: int, record: dict[str, str]) -> None:
    parsed.rows_total += 1
    try:
        _record(parsed, row, record)
    except RowError as exc:
        parsed.skipped.append(Skip(row, str(exc)))


def parse_xml(data: bytes) -> Parsed:
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise FileError("the XML declares a DOCTYPE or entities, which a Flex Query never does")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FileError(f"the XML cannot be read: {exc} (is the file cut short?)") from None
    if root.tag != "FlexQueryResponse":
        raise FileError(f"the XML's root is <{root.tag}>, not <FlexQueryResponse>")
    parsed = Parsed(columns=[])
    index = 0
    for statement in root.iter("FlexStatement"):
        account = statement.get("accountId", "")
        for element in statement.iter():
            if element.tag not in ("Trade", "TradeConfirm"):
                continue
            index += 1
            record = {_key(name): value.strip() for name, value in element.attrib.items()}
            record.setdefault("accountid", account)
            if not parsed.columns:
                parsed.columns = list(element.attrib)
            _add(parsed, index, record)
    if index == 0:
        raise FileError("the Flex Query has no <Trade> elements (add the Trades section)")
    return parsed


def parse_csv(data: bytes) -> Parsed:
    parsed = Parsed()
    header: list[str] | None = None
    for line, cells in csv_rows(decode(data), ","):
        tag = cells[0].strip()
        if tag in ("BOF", "BOA", "BOS", "EOS", "EOA", "EOF"):
            continue
        if tag == "HEADER":
            header, parsed.columns = [_key(c) for c in cells[2:]], cells[2:]
            continue
        if tag == "DATA":
            cells = cells[2:]
        elif header is None or [_key(c) for c in cells] == header:
            header, parsed.columns = [_key(c) for c in cells], [c.strip() for c in cells]
            continue
        if header is None:
            raise FileError(f"line {line}: data before the header line")
        if len(cells) < len(header):
            raise FileError(f"line {line}: {len(cells)} cells, the header has {len(header)} "
                            "(is the file cut short?)")  # fmt: skip
        _add(parsed, line, {name: cells[i].strip() for i, name in enumerate(header)})
    if header is None:
        raise FileError("the file is empty")
    return parsed
