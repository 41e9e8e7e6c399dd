"""What `GET /api/bars` takes and returns: bar rows (JSON) or columns (MessagePack or JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_LIMIT = 5000
MAX_LIMIT = 50_000

BarFormat = Literal["json", "columnar", "columnar-json"]


class BarsParams(BaseModel):
    """The query of `GET /api/bars`."""

    symbol: str = Field(min_length=1, max_length=64)
    timeframe: str = Field(description="a count and a unit s, m, h or d: `1s`, `5m`, `1h`, `1d`")
    start: str | None = Field(
        None, description="first bar time, inclusive: ISO-8601 with offset, or epoch ns"
    )
    end: str | None = Field(
        None,
        description="bars open before this time (exclusive): ISO-8601 with offset, or epoch ns",
    )
    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="most bars in this chunk; ask for the next one from `next_start`",
    )
    format: BarFormat | None = Field(
        None,
        description=(
            "`json` (bar rows, the default), `columnar` (MessagePack columns, also chosen by "
            "`Accept: application/msgpack`) or `columnar-json` (the same columns as JSON)"
        ),
    )


class BarRead(BaseModel):
    ts: str = Field(description="the bar's open time, ISO-8601 UTC")
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    bid_volume: float | None
    ask_volume: float | None


class BarsRead(BaseModel):
    """Bars as rows. `source_timeframe` differs from `timeframe` when they were aggregated."""

    symbol: str
    timeframe: str
    source_timeframe: str
    bars: list[BarRead]
    next_start: str | None = Field(description="`start` of the next chunk; null after the last")


class BarsColumnarRead(BaseModel):
    """Bars as columns of equal length; `ts` in UTC epoch ns (`format=columnar[-json]`)."""

    symbol: str
    timeframe: str
    source_timeframe: str
    ts: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float | None]
    bid_volume: list[float | None]
    ask_volume: list[float | None]
    next_start: int | None = Field(
        description="`start` (epoch ns) of the next chunk; null after the last"
    )
