"""MetaTrader 5 trade history report (History > Report > HTML), its Deals table. Pure.

The report (UTF-16 HTML) holds Positions, Orders and Deals tables; the Deals header is
`Time, Deal, Symbol, Type, Direction, Volume, Price, Order, Commission, Fee, Swap, Profit,
Balance, Comment`. `buy`/`sell` deals are fills (`balance`, `credit` and other rows are
skipped); `Deal` is the id; `Volume` is in lots; `Commission` and `Fee` are written
negative and summed (swap is financing, not a commission, and is not included). `Time`
(`2023.12.15 09:30:01`) is the trade server's clock, which each broker sets (often
EET/EEST), so tz applies. A CSV of the same columns is read too.
"""

from __future__ import annotations

from html.parser import HTMLParser

from backend.imports.model import FileError, InstrumentInfo, Parsed, RawFill, RowError, Skip
from backend.imports.text import csv_rows, decode, number, optional_number, parse_time

NOTES = ("History report saved as HTML (Deals table); Volume is lots: set each symbol's "
         "contract size as its multiplier; times are the broker's server time, so pass "
         "tz.")  # fmt: skip
HEADER = ("Time", "Deal", "Symbol", "Type", "Direction", "Volume", "Price", "Order",
          "Commission", "Fee", "Swap", "Profit", "Balance", "Comment")  # fmt: skip
TIME_FORMATS = ("%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y-%m-%d %H:%M:%S")


def detect(head: str) -> bool:
    return ("Trade History Report" in head and ("MetaTrader" in head or "Deals" in head)) or (
        all(name in head.split("\n", 1)[0] for name in ("Time", "Deal", "Direction", "Swap")))


class _Rows(HTMLParser):
    """Every table row's cell texts, in order, with the row's ordinal."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            span = dict(attrs).get("colspan")
            self._span = int(span) if span and span.isdigit() else 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._row.extend([""] * (self._span - 1))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _deal(parsed: Parsed, row: int, values: dict[str, str]) -> None:
    kind = values["Type"].strip().lower()
    if kind not in ("buy", "sell"):
        parsed.skipped.append(Skip(row, f"deal type {kind or 'empty'!r}: not a trade"))
        return
    symbol = values["Symbol"].strip()
    if not symbol:
        raise RowError("Symbol: is empty")
    cost = optional_number(values.get("Commission"), "Commission") + optional_number(
        values.get("Fee"), "Fee")
    fill = RawFill(
        row=row, when=parse_time(values["Time"], TIME_FORMATS, "Time"), symbol=symbol,
        side="buy" if kind == "buy" else "sell", qty=number(values["Volume"], "Volume"),
        price=number(values["Price"], "Price"), commission=max(0.0, -cost),
        broker_id=values["Deal"] or None, order_id=values.get("Order") or None,
    )  # fmt: skip
    if cost > 0:
        parsed.warnings.append(f"row {row}: a commission rebate of {cost:g} is stored as 0")
    parsed.fills.append(fill)
    parsed.note_instrument(InstrumentInfo(symbol))


def _table(parsed: Parsed, rows: list[tuple[int, list[str]]]) -> None:
    header: list[str] | None = None
    for row, cells in rows:
        if header is None:
            if [c.strip() for c in cells[: len(HEADER)]] == list(HEADER):
                header = list(HEADER)
                parsed.columns = header
            continue
        if not cells or not cells[0].strip() or len(cells) < len(HEADER) - 1:
            break  # the Deals table ends with its totals row, or a blank one
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        parsed.rows_total += 1
        try:
            _deal(parsed, row, values)
        except RowError as exc:
            parsed.skipped.append(Skip(row, str(exc)))
    if header is None:
        raise FileError("no Deals table (Time, Deal, Symbol, Type, Direction, Volume, ...) "
                        "in the report")  # fmt: skip


def parse(data: bytes) -> Parsed:
    text = decode(data)
    parsed = Parsed()
    if "<html" in text[:2048].lower() or "<table" in text.lower():
        reader = _Rows()
        reader.feed(text)
        reader.close()
        rows = reader.rows
        start = next((i for i, cells in enumerate(rows)
                      if cells and cells[0].strip() == "Deals"), None)  # fmt: skip
        if start is None:
            raise FileError("the report has no Deals section")
        account = next((c for cells in rows[:start] if cells and cells[0].strip() == "Account:"
                        for c in cells[1:] if c.strip()), "")  # fmt: skip
        _table(parsed, [(i + 1, cells) for i, cells in enumerate(rows)][start + 1:])
        for fill in parsed.fills:
            fill.account = account.split(" ")[0]
    else:
        _table(parsed, list(csv_rows(text)))
    parsed.warnings.append("MetaTrader volumes are lots: a symbol's multiplier is its "
                           "contract size (100,000 for most FX pairs); check each one")  # fmt: skip
    return parsed
