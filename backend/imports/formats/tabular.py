"""The shared loop of the one-table CSV formats: header, rows, a record function. Pure."""

from __future__ import annotations

from collections.abc import Callable

from backend.imports.model import FileError, Parsed, RowError, Skip
from backend.imports.text import decode, table

Record = Callable[[Parsed, int, dict[str, str]], None]


def parse_table(data: bytes, required: tuple[str, ...], record: Record, *,
                text: str | None = None) -> Parsed:  # fmt: skip
    columns, rows = table(decode(data) if text is None else text)
    missing = [name for name in required if name not in columns]
    if missing:
        raise FileError(f"the header lacks the column(s) {', '.join(missing)}; it has "
                        f"{', '.join(columns)}")  # fmt: skip
    parsed = Parsed(columns=columns)
    for line, values in rows:
        parsed.rows_total += 1
        try:
            record(parsed, line, values)
        except RowError as exc:
            parsed.skipped.append(Skip(line, str(exc)))
    return parsed
