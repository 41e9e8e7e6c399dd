"""Reading a user's market bars at any timeframe: stored as is, or aggregated on the fly.

A timeframe that is stored is served from its series. Any other timeframe is
aggregated from the finest stored timeframe that divides it (`1s` → `5m`),
streaming the source bars in chunks, and the result is kept in a small LRU
cache whose keys carry the symbol's bar version, so new bars make it miss.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack
import numpy as np
import numpy.typing as npt
import orjson
from fastapi import Response
from sqlalchemy.orm import Session

from backend.api.params import query_window
from backend.errors import NotFound
from backend.ingest.timestamps import format_ts
from backend.market import repository
from backend.market.resample import (
    NS_PER_SECOND,
    PRICE_FIELDS,
    VOLUME_FIELDS,
    Columns,
    bucket_starts,
    resample,
)
from backend.market.schemas import BarFormat, BarsParams
from backend.market.timeframes import format_timeframe

if TYPE_CHECKING:  # the app context imports the trades rebuild, which reads bars from here
    from backend.api.context import AppContext

MSGPACK_TYPES = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")
# Source rows fetched per round trip while aggregating.
STREAM_CHUNK = 20_000
_VALUE_FIELDS = (*PRICE_FIELDS, *VOLUME_FIELDS)


@dataclass(frozen=True)
class BarsQuery:
    symbol: str
    timeframe_s: int
    start: int | None  # inclusive, UTC epoch ns
    end: int | None  # exclusive
    limit: int


@dataclass(frozen=True)
class BarsPage:
    """One chunk of bars: `columns` holds `ts` (int64 ns) and float64 OHLCV (NaN = missing)."""

    symbol: str
    timeframe_s: int
    source_timeframe_s: int
    columns: Columns
    next_start: int | None

    @property
    def size(self) -> int:
        return len(self.columns["ts"])


class BarCache:
    """A thread-safe LRU of aggregated pages, bounded by entries and by bars held."""

    def __init__(self, max_entries: int = 128, max_bars: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self.max_bars = max_bars
        self._pages: OrderedDict[Hashable, BarsPage] = OrderedDict()
        self._bars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> BarsPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, page: BarsPage) -> None:
        if page.size > self.max_bars:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bars -= old.size
            self._pages[key] = page
            self._bars += page.size
            while len(self._pages) > self.max_entries or self._bars > self.max_bars:
                _key, evicted = self._pages.popitem(last=False)
                self._bars -= evicted.size

    def __len__(self) -> int:
        return len(self._pages)


def bar_cache(context: AppContext) -> BarCache:
    """The app's cache of aggregated bars, created on first use."""
    cache = context.extras.get("bar_cache")
    if cache is None:
        cache = context.extras.setdefault("bar_cache", BarCache())  # atomic: one wins a race
    assert isinstance(cache, BarCache), f"extras['bar_cache'] is a {type(cache).__name__}"
    return cache


# -- reading ---------------------------------------------------------------------------


def list_bars(context: AppContext, session: Session, user_id: int, params: BarsParams) -> BarsPage:
    """The user's bars of a symbol at a timeframe, from `start`, at most `limit` of them."""
    query = _parse(params)
    # Read the version first, then end the transaction the caller's authentication
    # opened: SQLite keeps a read snapshot for the whole transaction, and bars read
    # from a snapshot older than the version would be cached as if they were current.
    version = context.ingest.bar_version(user_id, query.symbol)
    session.commit()
    series = repository.series_by_timeframe(session, user_id, query.symbol)
    if not series:
        raise NotFound(f"symbol: no bars of {query.symbol!r} are stored")
    if query.timeframe_s in series:
        return _stored(session, series[query.timeframe_s], query)
    source_s = _source_timeframe(query, series)
    key = (
        user_id,
        query.symbol,
        query.timeframe_s,
        source_s,
        query.start,
        query.end,
        query.limit,
        version,
    )
    cache = bar_cache(context)
    page = cache.get(key)
    if page is None:
        page = _aggregated(session, series[source_s], source_s, query)
        cache.put(key, page)
    return page


def read_bars(session: Session, series: dict[int, int], query: BarsQuery) -> BarsPage:
    """The bars of `query` from a user's `series` (`repository.series_by_timeframe`), uncached.

    For readers inside the service (regimes) that want the bars as `list_bars`
    gives them, without its bar version or cache. NotFound when no stored
    timeframe divides the query's.
    """
    if query.timeframe_s in series:
        return _stored(session, series[query.timeframe_s], query)
    source_s = _source_timeframe(query, series)
    return _aggregated(session, series[source_s], source_s, query)


def _parse(params: BarsParams) -> BarsQuery:
    timeframe_s, start, end = query_window(params.timeframe, params.start, params.end)
    return BarsQuery(params.symbol, timeframe_s, start, end, params.limit)


def _source_timeframe(query: BarsQuery, series: dict[int, int]) -> int:
    """The finest stored timeframe that divides the requested one."""
    divisors = [s for s in series if query.timeframe_s % s == 0]
    if not divisors:
        stored = ", ".join(format_timeframe(s) for s in sorted(series))
        raise NotFound(
            f"timeframe: {format_timeframe(query.timeframe_s)} bars of {query.symbol!r} are not "
            f"stored and no stored timeframe divides it; stored: {stored}"
        )
    return min(divisors)


def _stored(session: Session, series_id: int, query: BarsQuery) -> BarsPage:
    rows = repository.list_bars(session, series_id, query.start, query.end, query.limit + 1)
    columns = _columns(rows)
    next_start = int(columns["ts"][query.limit]) if len(rows) > query.limit else None
    return BarsPage(
        query.symbol,
        query.timeframe_s,
        query.timeframe_s,
        _head(columns, query.limit),
        next_start,
    )


def _aggregated(session: Session, series_id: int, source_s: int, query: BarsQuery) -> BarsPage:
    """Buckets opening in [start, end): whole buckets only, so both bounds round up."""
    target_ns = query.timeframe_s * NS_PER_SECOND
    start = None if query.start is None else _ceil(query.start, target_ns)
    end = None if query.end is None else _ceil(query.end, target_ns)
    chunks = repository.stream_bars(session, series_id, start, end, STREAM_CHUNK)
    pieces: list[Columns] = []
    count = 0
    for piece in _resample_stream(chunks, query.timeframe_s):
        pieces.append(piece)
        count += len(piece["ts"])
        if count > query.limit:  # one bucket past the chunk tells where the next one starts
            break
    columns = _concat(pieces)
    next_start = int(columns["ts"][query.limit]) if count > query.limit else None
    return BarsPage(
        query.symbol, query.timeframe_s, source_s, _head(columns, query.limit), next_start
    )


def _resample_stream(
    chunks: Iterable[Sequence[Sequence[Any]]], target_seconds: int
) -> Iterable[Columns]:
    """Resampled buckets, chunk by chunk; a bucket that may go on into the next chunk waits."""
    carry: Columns | None = None
    for rows in chunks:
        if not rows:
            continue
        source = _columns(rows) if carry is None else _concat([carry, _columns(rows)])
        last_bucket = bucket_starts(source["ts"][-1:], target_seconds)[0]
        split = int(np.searchsorted(source["ts"], last_bucket, side="left"))
        carry = _slice(source, split, None)
        if split:
            yield _resample(_slice(source, 0, split), target_seconds)
    if carry is not None:
        yield _resample(carry, target_seconds)


def _resample(source: Columns, target_seconds: int) -> Columns:
    return resample(
        source["ts"],
        source["open"],
        source["high"],
        source["low"],
        source["close"],
        source["volume"],
        target_seconds,
        bid_volume=source["bid_volume"],
        ask_volume=source["ask_volume"],
    )


def _ceil(ts: int, step: int) -> int:
    return -(-ts // step) * step


def _columns(rows: Sequence[Sequence[Any]]) -> Columns:
    """`repository.BAR_COLUMNS` rows as columns; None volumes become NaN."""
    ts = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    values = np.array([tuple(row[1:]) for row in rows], dtype=np.float64).reshape(
        len(rows), len(_VALUE_FIELDS)
    )
    columns: Columns = {"ts": ts}
    for index, name in enumerate(_VALUE_FIELDS):
        columns[name] = np.ascontiguousarray(values[:, index])
    return columns


def _concat(pieces: Sequence[Columns]) -> Columns:
    if not pieces:
        return _columns([])
    return {name: np.concatenate([piece[name] for piece in pieces]) for name in pieces[0]}


def _slice(columns: Columns, start: int, stop: int | None) -> Columns:
    return {name: values[start:stop] for name, values in columns.items()}


def _head(columns: Columns, limit: int) -> Columns:
    """The first `limit` rows, copied when cut so a cached page holds no larger arrays."""
    if len(columns["ts"]) <= limit:
        return columns
    return {name: values[:limit].copy() for name, values in columns.items()}


# -- rendering -------------------------------------------------------------------------


def render(page: BarsPage, fmt: BarFormat | None, accept: str | None) -> Response:
    """The page in the asked format: `format` first, then the Accept header, then JSON rows."""
    chosen = fmt or ("columnar" if _prefers_msgpack(accept) else "json")
    headers = {"Vary": "Accept"}
    if chosen == "columnar":
        body = msgpack.packb(_columnar(page, lists=True), use_bin_type=True)
        return Response(body, media_type="application/msgpack", headers=headers)
    if chosen == "columnar-json":
        body = orjson.dumps(_columnar(page, lists=False), option=orjson.OPT_SERIALIZE_NUMPY)
    else:
        body = orjson.dumps(_rows(page))
    return Response(body, media_type="application/json", headers=headers)


def _header(page: BarsPage) -> dict[str, Any]:
    return {
        "symbol": page.symbol,
        "timeframe": format_timeframe(page.timeframe_s),
        "source_timeframe": format_timeframe(page.source_timeframe_s),
    }


def _columnar(page: BarsPage, *, lists: bool) -> dict[str, Any]:
    """`schemas.BarsColumnarRead`; numpy arrays for orjson (NaN → null), lists for msgpack."""
    document = _header(page)
    document["ts"] = page.columns["ts"].tolist() if lists else page.columns["ts"]
    for name in _VALUE_FIELDS:
        values = page.columns[name]
        document[name] = _nullable(values) if lists else values
    document["next_start"] = page.next_start
    return document


def _rows(page: BarsPage) -> dict[str, Any]:
    """`schemas.BarsRead`."""
    columns = page.columns
    times = [format_ts(ts) for ts in columns["ts"].tolist()]
    values = [_nullable(columns[name]) for name in _VALUE_FIELDS]
    document = _header(page)
    document["bars"] = [
        dict(zip(("ts", *_VALUE_FIELDS), row, strict=True))
        for row in zip(times, *values, strict=True)
    ]
    document["next_start"] = None if page.next_start is None else format_ts(page.next_start)
    return document


def _nullable(values: npt.NDArray[np.float64]) -> list[float | None]:
    """Python floats, None where NaN (a missing volume)."""
    missing = np.isnan(values)
    if not missing.any():
        result: list[float | None] = values.tolist()
        return result
    objects = values.astype(object)
    objects[missing] = None
    nullable: list[float | None] = objects.tolist()
    return nullable


def _prefers_msgpack(accept: str | None) -> bool:
    """True when the Accept header's most preferred type (highest q, then first) is msgpack."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept or "").split(",")):
        kind, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind and quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, kind.lower())
    return best is not None and best[2] in MSGPACK_TYPES
