"""1-second OHLCV bars in: a CSV file read in chunks, or bars stored in Fillbook.

The CSV has six columns in this order, with or without a header line:
Unix-millisecond timestamp (a bar's open time), open, high, low, close, volume.
It is read in chunks of `CHUNK_ROWS` rows into float64/int64 numpy columns, so
a quarter of 1-second data (~5 million rows, ~300 MB of text) takes ~240 MB.

Cleaning, counted in a `LoadReport`:
- malformed rows are dropped: a wrong number of fields, a value that is not a
  number, a price that is not finite and > 0, `high` < max(open, close, low),
  `low` > min(open, close), a negative or non-finite volume, a timestamp that is
  not a whole number of milliseconds after 2000-01-01 and before 2200;
- rows are sorted by time (stable), and of rows with the same timestamp the
  first one in the file is kept.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgpack
import numpy as np
import numpy.typing as npt
import pandas as pd

NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
CHUNK_ROWS = 1_000_000
# Plausible Unix-ms range: 2000-01-01 .. 2200-01-01.
MIN_MS = 946_684_800_000
MAX_MS = 7_258_118_400_000
COLUMNS = ("ts", "open", "high", "low", "close", "volume")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Seconds:
    """Sorted, unique bars as columns: `ts` in epoch ns (open time), float64 OHLCV."""

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def __len__(self) -> int:
        return len(self.ts)

    def slice(self, start: int, stop: int) -> Seconds:
        return Seconds(
            self.ts[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
        )


@dataclass
class LoadReport:
    """What loading kept and dropped, and why."""

    rows_read: int = 0
    rows_kept: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    unsorted: bool = False

    @property
    def dropped(self) -> int:
        return sum(self.malformed.values()) + self.duplicates

    def count(self, reason: str, rows: int) -> None:
        if rows:
            self.malformed[reason] = self.malformed.get(reason, 0) + rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "malformed": dict(self.malformed),
            "duplicates": self.duplicates,
            "unsorted": self.unsorted,
        }

    def summary(self) -> str:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.malformed.items())) or "none"
        order = "sorted" if self.unsorted else "already in order"
        return (
            f"{self.rows_kept} of {self.rows_read} rows kept; malformed: {reasons}; "
            f"{self.duplicates} duplicate timestamps dropped; rows {order}"
        )


def load_csv(path: str | Path, *, chunk_rows: int = CHUNK_ROWS) -> tuple[Seconds, LoadReport]:
    """Read a 1-second OHLCV CSV into clean, sorted, unique columns and a report."""
    report = LoadReport()
    pieces: list[list[npt.NDArray[Any]]] = [[] for _ in COLUMNS]
    for chunk in _read_chunks(Path(path), chunk_rows, report):
        for column, values in zip(pieces, chunk, strict=True):
            column.append(values)
    # One column at a time, each column's pieces freed once joined: the peak stays near
    # the pieces plus one column, not twice the data.
    columns: list[npt.NDArray[Any]] = []
    for name, column in zip(COLUMNS, pieces, strict=True):
        dtype = np.int64 if name == "ts" else np.float64
        columns.append(np.concatenate(column) if column else np.empty(0, dtype=dtype))
        column.clear()
    return _finish(columns, report)


def _read_chunks(
    path: Path, chunk_rows: int, report: LoadReport
) -> Iterator[list[npt.NDArray[Any]]]:
    if path.stat().st_size == 0:
        return
    header = 0 if _has_header(path) else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = pd.read_csv(
            path,
            header=header,
            names=list(COLUMNS),
            chunksize=chunk_rows,
            on_bad_lines="warn",
            skip_blank_lines=True,
            engine="c",
            low_memory=False,
        )
        with reader:
            for frame in reader:
                yield _clean_chunk(frame, report)
                _count_bad_lines(caught, report)
    _count_bad_lines(caught, report)


def _count_bad_lines(caught: list[warnings.WarningMessage], report: LoadReport) -> None:
    """Lines the parser skipped (pandas warns once per chunk, one line per skipped row)."""
    bad = sum(str(w.message).count("Skipping line") for w in caught)
    caught.clear()
    report.rows_read += bad
    report.count("wrong number of fields", bad)


def _has_header(path: Path) -> bool:
    with path.open("rb") as handle:
        first = handle.readline().split(b",")[0].strip()
    try:
        float(first)
    except ValueError:
        return bool(first)
    return False


def _clean_chunk(frame: pd.DataFrame, report: LoadReport) -> list[npt.NDArray[Any]]:
    report.rows_read += len(frame)
    numeric = {}
    for name in COLUMNS:
        column = frame[name]
        if column.dtype.kind not in "if":  # a stray word in the chunk made it text
            column = pd.to_numeric(column, errors="coerce")
        numeric[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    ms = numeric["ts"]
    o, h, lo, c, v = (numeric[name] for name in COLUMNS[1:])
    not_number = np.zeros(len(frame), dtype=bool)
    for values in numeric.values():
        not_number |= np.isnan(values)
    bad = not_number.copy()
    report.count("not a number", int(not_number.sum()))

    with np.errstate(invalid="ignore"):
        bad_ts = ~bad & ((ms != np.floor(ms)) | (ms < MIN_MS) | (ms >= MAX_MS))
        bad |= bad_ts
        report.count("timestamp not Unix milliseconds", int(bad_ts.sum()))
        prices = np.stack([o, h, lo, c])
        bad_price = ~bad & ~np.all(np.isfinite(prices) & (prices > 0), axis=0)
        bad |= bad_price
        report.count("price not finite and > 0", int(bad_price.sum()))
        bad_range = ~bad & ((h < np.maximum(np.maximum(o, c), lo)) | (lo > np.minimum(o, c)))
        bad |= bad_range
        report.count("high/low outside open/close", int(bad_range.sum()))
        bad_volume = ~bad & ~(np.isfinite(v) & (v >= 0))
        bad |= bad_volume
        report.count("volume not finite and >= 0", int(bad_volume.sum()))

    keep = ~bad
    ts = ms[keep].astype(np.int64) * NS_PER_MS
    return [ts, o[keep], h[keep], lo[keep], c[keep], v[keep]]


def _finish(columns: list[npt.NDArray[Any]], report: LoadReport) -> tuple[Seconds, LoadReport]:
    """Sort (stable) and drop repeated timestamps, column by column."""
    ts = columns[0]
    if len(ts) > 1 and bool(np.any(ts[1:] < ts[:-1])):
        report.unsorted = True
        order = np.argsort(ts, kind="stable")
        for i, column in enumerate(columns):
            columns[i] = column[order]
        del order
        ts = columns[0]
    if len(ts) > 1:
        first = np.r_[True, ts[1:] != ts[:-1]]
        report.duplicates = int(len(ts) - first.sum())
        if report.duplicates:
            for i, column in enumerate(columns):
                columns[i] = column[first]
    report.rows_kept = len(columns[0])
    ts_col, *values = (np.ascontiguousarray(column) for column in columns)
    seconds = Seconds(
        ts_col.astype(np.int64, copy=False),
        *(column.astype(np.float64, copy=False) for column in values),
    )
    return seconds, report


def from_arrays(
    ts_ns: npt.ArrayLike,
    open: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike | None = None,
) -> Seconds:
    """Columns given in memory (tests, notebooks): sorted and de-duplicated like a CSV."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    vol = np.zeros(len(ts)) if volume is None else np.asarray(volume, dtype=np.float64)
    columns = [ts, *(np.asarray(x, dtype=np.float64) for x in (open, high, low, close)), vol]
    seconds, _report = _finish(columns, LoadReport(rows_read=len(ts)))
    return seconds


def write_csv(path: str | Path, seconds: Seconds, *, header: bool = True) -> None:
    """Write bars in the CSV form `load_csv` reads (millisecond timestamps)."""
    frame = pd.DataFrame(
        {
            "timestamp": seconds.ts // NS_PER_MS,
            "open": seconds.open,
            "high": seconds.high,
            "low": seconds.low,
            "close": seconds.close,
            "volume": seconds.volume,
        }
    )
    frame.to_csv(path, index=False, header=header)


MAX_PAGE_BYTES = 64 * 1024 * 1024  # a page of 50,000 columnar bars is ~3 MB


def read_capped(
    http: httpx.Client, path: str, limit: int, **options: Any
) -> tuple[int, bytes]:
    """GET `path`, reading at most `limit` bytes of the answer: whatever answers, the
    worker never holds more than that (RuntimeError past it)."""
    with http.stream("GET", path, **options) as response:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise RuntimeError(f"GET {path} answered more than {limit} bytes; stopped reading")
            chunks.append(chunk)
        return response.status_code, b"".join(chunks)


def load_stored(
    url: str,
    credential: str,
    symbol: str,
    *,
    timeframe: str = "1s",
    start: int | None = None,
    end: int | None = None,
    chunk: int = 50_000,
    client: httpx.Client | None = None,
) -> tuple[Seconds, LoadReport]:
    """Bars stored in Fillbook, read through `GET /api/bars` as columnar MessagePack."""
    own = client is None
    http = client or httpx.Client(base_url=url, timeout=60.0)
    headers = {"Authorization": f"Bearer {credential}", "Accept": "application/msgpack"}
    ts_parts: list[IntArray] = []
    value_parts: list[FloatArray] = []
    report = LoadReport()
    try:
        next_start: int | None = start
        while True:
            params: dict[str, Any] = {
                "symbol": symbol,
                "timeframe": timeframe,
                "limit": chunk,
                "format": "columnar",
            }
            if next_start is not None:
                params["start"] = str(next_start)
            if end is not None:
                params["end"] = str(end)
            status, content = read_capped(http, "/api/bars", MAX_PAGE_BYTES, params=params,
                                          headers=headers)  # fmt: skip
            if status != 200:
                shown = content[:300].decode(errors="replace")
                raise RuntimeError(f"GET /api/bars answered {status}: {shown}")
            page = msgpack.unpackb(content)
            ts_parts.append(np.asarray(page["ts"], dtype=np.int64))
            value_parts.append(
                np.column_stack(
                    [
                        np.asarray(
                            [np.nan if x is None else x for x in page[name]], dtype=np.float64
                        )
                        for name in ("open", "high", "low", "close", "volume")
                    ]
                ).reshape(-1, 5)
            )
            if page["next_start"] is None:
                break
            next_start = int(page["next_start"])
    finally:
        if own:
            http.close()
    ts = np.concatenate(ts_parts) if ts_parts else np.empty(0, dtype=np.int64)
    values = np.concatenate(value_parts) if value_parts else np.empty((0, 5))
    values[:, 4] = np.nan_to_num(values[:, 4], nan=0.0)  # a bar without volume: none known
    report.rows_read = len(ts)
    return _finish([ts, *(values[:, i] for i in range(5))], report)
