"""What the analytics API returns where it is typed: intervals, metrics, breakdowns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MetricInterval(BaseModel):
    """A confidence interval of one metric (docs/metrics.md, "Confidence")."""

    ci_low: float | None = Field(description="lower bound; null when undefined")
    ci_high: float | None = Field(description="upper bound; null when unbounded or undefined")
    n: int = Field(description="observations behind it: trades, or daily returns for Sharpe")
    level: float = Field(description="confidence level, 0.95")
    method: Literal["wilson", "bootstrap"]
    enough: bool = Field(description="false: too few observations, or unbounded, to mean much")
    reason: str | None = Field(description="why not enough (or undefined); null when enough")


class ProbabilisticSharpe(BaseModel):
    value: float | None = Field(
        description="probability that the true daily Sharpe ratio exceeds the benchmark"
    )
    benchmark: float = Field(description="per-day Sharpe ratio the estimate is tested against")
    n: int = Field(description="daily returns")
    reason: str | None = Field(description="why there is no value")


class Confidence(BaseModel):
    level: float
    intervals: dict[str, MetricInterval] = Field(
        description="by metric name: win_rate, expectancy, profit_factor, expectancy_r, sharpe"
    )
    probabilistic_sharpe: ProbabilisticSharpe


class RunMetricsRead(BaseModel):
    """Every metric by name (numbers or null), why the nulls are null, and confidence."""

    model_config = ConfigDict(extra="allow")

    run_id: int
    undefined: dict[str, str] = Field(description="reason of each null metric")
    metrics_version: int
    computed_at: str
    confidence: Confidence | None = Field(
        None, description="intervals and the probabilistic Sharpe ratio"
    )


class BreakdownGroup(BaseModel):
    """One group's core metrics and the confidence intervals of four of them."""

    key: str
    trade_count: int
    net_pnl: float | None
    gross_pnl: float | None
    commission: float | None
    win_rate: float | None
    avg_win: float | None
    avg_loss: float | None
    profit_factor: float | None
    expectancy: float | None
    expectancy_r: float | None
    avg_hold_seconds: float | None
    intervals: dict[str, MetricInterval] | None = Field(
        None, description="win_rate, expectancy, profit_factor, expectancy_r"
    )


class BreakdownRead(BaseModel):
    by: str
    timezone: str
    groups: list[BreakdownGroup]
