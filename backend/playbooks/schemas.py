"""Playbooks, rules, mistakes and a trade's journal, as the API reads and writes them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from backend.analytics.schemas import Confidence

MAX_RULES = 50
ReviewState = Literal["new", "reviewed"]
PlaybookSource = Literal["manual", "strategy"]


class RuleWrite(BaseModel):
    """A rule of the checklist: with the `id` of an existing rule it keeps it (and its ticks)."""

    id: int | None = None
    text: str = Field(min_length=1, max_length=300)


class PlaybookUpdate(BaseModel):
    """Any of a playbook's fields; `rules` is the whole new checklist when given."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    conditions: str | None = Field(default=None, max_length=2000)
    strategy: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="trades of runs of this strategy get this playbook unless one is assigned "
        "by hand; unique among the user's playbooks",
    )
    rules: list[RuleWrite] | None = Field(default=None, max_length=MAX_RULES)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str | None) -> str | None:
        if name is not None and not name.strip():
            raise ValueError("must not be blank")
        return name.strip() if name is not None else None


class PlaybookWrite(PlaybookUpdate):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=10_000)
    conditions: str = Field(default="", max_length=2000)
    rules: list[RuleWrite] = Field(default_factory=list, max_length=MAX_RULES)


class RuleRead(BaseModel):
    id: int
    text: str
    position: int


class PlaybookRead(BaseModel):
    id: int
    name: str
    description: str
    conditions: str
    strategy: str | None
    rules: list[RuleRead]
    trades: int = Field(description="trades with this playbook, by hand or by strategy")
    adherence: float | None = Field(
        description="mean adherence of its trades that have a rule ticked; null without any"
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class MistakeWrite(BaseModel):
    name: str = Field(min_length=1, max_length=60)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name.strip()


class MistakeRead(BaseModel):
    id: int
    name: str
    trades: int = Field(description="trades tagged with it")


class MistakeRef(BaseModel):
    id: int
    name: str


class RuleTickRead(BaseModel):
    rule_id: int
    text: str
    followed: bool | None = Field(description="true: followed, false: broken, null: not ticked")


class TradeJournalRead(BaseModel):
    """A trade's review: playbook, rule ticks, mistakes and review state."""

    playbook_id: int | None
    playbook_source: PlaybookSource | None = Field(
        description="manual: assigned by hand; strategy: the playbook of the run's strategy"
    )
    review_state: ReviewState
    reviewed_at: dt.datetime | None
    mistakes: list[MistakeRef]
    rules: list[RuleTickRead] = Field(description="the playbook's rules, in order")
    adherence: float | None = Field(description="followed / ticked rules; null when none ticked")


class RuleTickWrite(BaseModel):
    rule_id: int
    followed: bool | None


class TradeJournalWrite(BaseModel):
    """What to change in a trade's review; fields left out stay as they are.

    `playbook_id: null` removes the hand assignment (the strategy's playbook applies again);
    `mistake_ids` is the whole new list; `rules` ticks the rules named (null: unticked)."""

    playbook_id: int | None = None
    review_state: ReviewState | None = None
    mistake_ids: list[int] | None = Field(default=None, max_length=100)
    rules: list[RuleTickWrite] | None = Field(default=None, max_length=MAX_RULES)


class NextUnreviewed(BaseModel):
    id: int | None = Field(description="the next closed trade not reviewed; null when none")


class OutcomeSummary(BaseModel):
    """Metrics of a set of closed trades, from the run metrics' code."""

    trades: int
    net_pnl: float
    win_rate: float | None
    expectancy: float | None
    profit_factor: float | None


class RuleAnalytics(BaseModel):
    rule_id: int
    text: str
    followed: OutcomeSummary
    broken: OutcomeSummary


MetricValue = float | int | str | dict[str, str] | None


class PlaybookAnalytics(BaseModel):
    playbook_id: int
    trades: int = Field(description="closed trades with this playbook")
    metrics: dict[str, MetricValue] = Field(
        description="the run metrics' document, computed on the playbook's closed trades"
    )
    confidence: Confidence | None = Field(
        None, description="the metrics' intervals and probabilistic Sharpe ratio"
    )
    rules: list[RuleAnalytics]
