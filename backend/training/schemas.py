"""Request and response bodies of the training API.

The architecture, hyper-parameters and environment settings are the training
node's own models (`services.training_node.settings`, pure pydantic): what the
backend accepts is exactly what the node accepts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.training_node.settings import TrainingSettings

TrainingStatus = Literal[
    "pending_submit", "submitting", "queued", "running", "succeeded", "failed", "cancelled"
]
ArtifactName = Literal["model", "log", "report", "plot"]
ACTIVE_STATUSES = ("pending_submit", "submitting", "queued", "running")


class TrainingCreate(TrainingSettings):
    """`model_architecture`, `hyperparameters`, `environment` (each with defaults), and which
    bars of the run to train on."""

    symbol: str | None = Field(default=None, description="default: the symbol the run filled most")
    timeframe: str | None = Field(
        default=None, description="like '5m'; default: the finest stored timeframe of the symbol"
    )


class LearningCurve(BaseModel):
    episode_returns: list[dict[str, float]] = []
    losses: list[dict[str, float]] = []


class TrainingJobRead(BaseModel):
    """A training job; `learning_curve`, `report` and `artifacts` come from the node."""

    id: int
    run_id: int
    status: TrainingStatus
    trigger: Literal["manual", "auto"]
    progress: float
    node_job_id: str | None
    attempts: int
    error: str | None
    settings: dict[str, Any]
    learning_curve: LearningCurve
    report: dict[str, Any] | None
    artifacts: list[ArtifactName]
    created_at: dt.datetime
    updated_at: dt.datetime


class TrainingJobList(BaseModel):
    jobs: list[TrainingJobRead]


class AutoTrainingUpdate(BaseModel):
    """Train automatically when a run of this instance ends, with these settings."""

    enabled: bool
    settings: TrainingCreate = TrainingCreate()


class AutoTrainingRead(BaseModel):
    instance_id: int
    enabled: bool
    settings: TrainingCreate
    updated_at: dt.datetime | None
