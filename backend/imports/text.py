"""Reading a file's bytes as text and rows, numbers and dates as the platforms write them. Pure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator

from backend.imports.model import FileError, RowError, Side


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM (MetaTrader writes it); else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def sniff_delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def csv_rows(text: str, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty record; line numbers count from 1."""
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or sniff_delimiter(first))
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise FileError(f"line {reader.line_num}: not valid CSV ({exc})") from None


def table(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV with a header line: the header and (line, {column: value}) per row."""
    rows = csv_rows(text)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileError("the file is empty") from None
    columns = [name.strip() for name in header]
    records = []
    for line, cells in rows:
        if len(cells) < len(columns):
            raise FileError(f"line {line}: {len(cells)} cells, the header has {len(columns)} "
                            "(is the file cut short?)")  # fmt: skip
        records.append((line, {name: cells[i].strip() for i, name in enumerate(columns)}))
    return columns, records


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def number(text: str, field: str, *, decimal_comma: bool = False) -> float:
    """`1,234.50`, `$2.12`, `(2.12)` (negative), `-$ 0.62`, `+2` as a float."""
    if not decimal_comma and _PLAIN.match(text):  # the common case, without the rewriting
        return float(text)
    raw = text.strip()
    value = raw.replace("$", "").replace("€", "").replace(" ", "").replace("\u00a0", "")
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()")
    if decimal_comma:
        value = value.replace(".", "").replace(",", ".")
    else:
        value = value.replace(",", "")
    if value.startswith("-"):
        negative, value = not negative, value[1:]
    elif value.startswith("+"):
        value = value[1:]
    if not _NUMBER.match(value):
        raise RowError(f"{field}: not a number: {raw!r}")
    result = float(value)
    return -result if negative else result


def optional_number(text: str | None, field: str) -> float:
    return 0.0 if text is None or text.strip() in ("", "-", "--") else number(text, field)


def parse_time(text: str, formats: tuple[str, ...], field: str) -> dt.datetime:
    """The first of `formats` that reads `text` (naive unless the format has %z)."""
    value = " ".join(text.split())
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(value, fmt)  # noqa: DTZ007 (zones applied later)
        except ValueError:
            continue
        return parsed
    example = dt.datetime(2024, 1, 31, 14, 5, 9, tzinfo=dt.UTC).strftime(formats[0])
    raise RowError(f"{field}: cannot read {text!r} as a time (expected like {example})")


def side(text: str, field: str) -> Side:
    value = text.strip().lower()
    if value in ("buy", "b", "bot", "bought", "buy to open", "buy to close", "buy to cover",
                 "long", "in-buy"):  # fmt: skip
        return "buy"
    if value in ("sell", "s", "sld", "sold", "sell short", "ss", "sell to open",
                 "sell to close", "short"):  # fmt: skip
        return "sell"
    raise RowError(f"{field}: expected buy or sell, got {text!r}")


# Point values of common CME Group, ICE and Eurex futures roots, from the exchanges'
# contract specifications: used when the file itself does not say the multiplier.
FUTURES_MULTIPLIERS: dict[str, float] = {
    "ES": 50, "MES": 5, "NQ": 20, "MNQ": 2, "YM": 5, "MYM": 0.5, "RTY": 50, "M2K": 5,
    "CL": 1000, "MCL": 100, "QM": 500, "NG": 10000, "GC": 100, "MGC": 10, "SI": 5000,
    "SIL": 1000, "HG": 25000, "ZB": 1000, "ZN": 1000, "ZF": 1000, "ZT": 2000, "ZC": 50,
    "ZS": 50, "ZW": 50, "6E": 125000, "M6E": 12500, "6J": 12500000, "6B": 62500,
    "FDAX": 25, "FDXM": 5, "FESX": 10,
}  # fmt: skip
_MONTH_CODES = "FGHJKMNQUVXZ"
_FUTURE_CODE = re.compile(rf"^/?([A-Z0-9]{{1,4}}?)([{_MONTH_CODES}])(\d{{1,2}})$")


def future_root(symbol: str) -> str | None:
    """`MESZ3`, `/ESZ23`, `ES 03-24`, `NQH24` → the root (`MES`, `ES`, `NQ`); None otherwise."""
    value = symbol.strip().upper()
    spaced = re.match(r"^([A-Z0-9]{1,5}) \d{2}-\d{2}$", value)
    if spaced:
        return spaced.group(1)
    match = _FUTURE_CODE.match(value)
    if match:
        return match.group(1)
    return None


def known_multiplier(symbol: str) -> float | None:
    root = future_root(symbol)
    return None if root is None else FUTURES_MULTIPLIERS.get(root)


def header_of(head: str) -> list[str]:
    """The first non-empty line's cells, stripped of quotes and blanks."""
    first = next((line for line in head.splitlines() if line.strip()), "")
    return [cell.strip().strip('"').strip() for cell in first.split(sniff_delimiter(first))]
