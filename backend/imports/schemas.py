"""The import API's request and response bodies (docs/imports.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Column = Annotated[str, StringConstraints(max_length=200)]
ImportState = Literal["staged", "running", "done", "failed"]


class FormatRead(BaseModel):
    id: str
    label: str
    extensions: list[str]
    notes: str
    local_times: bool
    default_tz: str | None


class PreviewFill(BaseModel):
    row: int
    execution_id: str
    time: str
    symbol: str
    side: str
    qty: float
    price: float
    commission: float
    account: str


class PreviewInstrument(BaseModel):
    symbol: str
    action: Literal["create", "update", "unchanged"]
    multiplier: float | None
    tick_size: float | None
    currency: str | None
    warning: str | None


class RowProblem(BaseModel):
    row: int
    reason: str


class Duplicate(BaseModel):
    row: int
    execution_id: str


class MappingColumns(BaseModel):
    """Which column holds each field (the CLI's `--map`)."""

    model_config = ConfigDict(extra="forbid")

    time: Column
    symbol: Column
    qty: Column
    price: Column
    side: Column | None = None
    commission: Column | None = None
    execution_id: Column | None = None
    account: Column | None = None
    order_id: Column | None = None


class ImportPreview(BaseModel):
    id: int
    state: ImportState
    filename: str
    size_bytes: int
    format: str
    format_label: str
    detected: bool
    tz: str | None
    rows_total: int
    fills_total: int
    fills: list[PreviewFill]
    instruments: list[PreviewInstrument]
    skipped_total: int
    skipped: list[RowProblem]
    duplicates_total: int
    duplicates: list[Duplicate]
    warnings: list[str]
    columns: list[str]
    mapping: MappingColumns | None
    needs_mapping: bool
    needs_tz: bool


class Progress(BaseModel):
    done: int
    total: int


class ImportSummary(BaseModel):
    stored: int
    duplicates: int
    refused_total: int
    refused: list[RowProblem]
    trades_rebuilt: int
    run_id: int


class ImportStatus(BaseModel):
    id: int
    state: ImportState
    filename: str
    size_bytes: int
    format: str
    format_label: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    run_id: int | None
    progress: Progress
    summary: ImportSummary | None
    error: str | None


class ImportOptions(BaseModel):
    """Read the staged file again as another format, or in another time zone."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    tz: Annotated[str, StringConstraints(max_length=64)] | None = None


class MappingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: MappingColumns
    tz: Annotated[str, StringConstraints(max_length=64)] | None = None
    date_format: Annotated[str, StringConstraints(max_length=64)] | None = None
    save_as: Name | None = None


class NewRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    mode: Literal["live", "paper", "backtest"] = "live"


class ImportConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int | None = Field(default=None, ge=1)
    new_run: NewRun | None = None
    account: Annotated[str, StringConstraints(max_length=100)] | None = None


class SavedMapping(BaseModel):
    name: str
    mapping: MappingColumns
    tz: str | None
    date_format: str | None


class SavedMappingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: MappingColumns
    tz: Annotated[str, StringConstraints(max_length=64)] | None = None
    date_format: Annotated[str, StringConstraints(max_length=64)] | None = None
