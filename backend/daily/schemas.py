"""The daily journal as the API reads and writes it."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from backend.trades.schemas import TradeListItem

MAX_TEXT = 20_000


class JournalDaySummary(BaseModel):
    day: str = Field(description="YYYY-MM-DD in the user's time zone")
    has_entry: bool
    mood: int | None
    discipline: int | None
    trades: int = Field(description="trades entered that day (open ones included)")
    net_pnl: float = Field(description="net P&L of the closed trades entered that day")


class JournalDayRead(BaseModel):
    day: str = Field(description="YYYY-MM-DD in the user's time zone")
    plan: str = Field(description="the pre-market plan (markdown); the template for a new day")
    review: str = Field(description="the end-of-day review (markdown)")
    mood: int | None
    discipline: int | None
    updated_at: dt.datetime | None
    exists: bool = Field(description="false: no entry written yet")
    trades: list[TradeListItem] = Field(
        description="trades entered that day in the user's zone, by entry (the first 1000)"
    )
    trade_count: int = Field(description="all trades entered that day")
    net_pnl: float = Field(description="net P&L of the closed trades entered that day")


class JournalDayWrite(BaseModel):
    """What to change in a day's entry; fields left out stay as they are (null clears a rating)."""

    plan: str | None = Field(default=None, max_length=MAX_TEXT)
    review: str | None = Field(default=None, max_length=MAX_TEXT)
    mood: int | None = Field(default=None, ge=1, le=5)
    discipline: int | None = Field(default=None, ge=1, le=5)


class JournalTemplateRead(BaseModel):
    template: str


class JournalTemplateWrite(BaseModel):
    template: str = Field(max_length=MAX_TEXT)
