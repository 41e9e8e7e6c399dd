"""What `GET /api/regimes/timeline` takes and returns."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.regimes.classify import TrendLabel, VolatilityLabel
from backend.regimes.methods import MethodName


class TimelineParams(BaseModel):
    """The query of `GET /api/regimes/timeline`."""

    symbol: str = Field(min_length=1, max_length=64)
    timeframe: str = Field(
        description="bars to classify: a count and a unit s, m, h or d (`5m`, `1h`)"
    )
    start: str | None = Field(
        None, description="timeline start, inclusive: ISO-8601 with offset, or epoch ns"
    )
    end: str | None = Field(
        None, description="timeline end, exclusive: ISO-8601 with offset, or epoch ns"
    )
    method: MethodName = Field(
        "rules", description="`rules` (the default) or `gmm` (the learned Gaussian mixture)"
    )


class SegmentRead(BaseModel):
    """Tags in effect from `start` (inclusive) to `end` (exclusive), ISO-8601 UTC."""

    start: str
    end: str | None = Field(description="null: in effect until the next bar closes")
    trend: TrendLabel
    volatility: VolatilityLabel


class RegimeTimelineRead(BaseModel):
    """A symbol's regimes as segments; each bar's tags start at its close."""

    symbol: str
    timeframe: str
    source_timeframe: str = Field(description="the stored timeframe the bars came from")
    method: MethodName
    version: int
    params: dict[str, float | int | str]
    segments: list[SegmentRead]
