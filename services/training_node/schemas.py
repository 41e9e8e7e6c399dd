"""Response bodies of the node's API (the request body is `settings.TrainRequest`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ArtifactName = Literal["model", "log", "report", "plot"]

ARTIFACTS = {
    "model": ("model.keras", "application/octet-stream"),
    "log": ("training_log.csv", "text/csv"),
    "report": ("report.json", "application/json"),
    "plot": ("learning_curve.png", "image/png"),
}
"""Artifact name → (file name in the job's folder, media type)."""


class JobCreated(BaseModel):
    job_id: str
    status: JobStatusName


class LearningCurve(BaseModel):
    """Episode returns (equity change per episode) and mean loss per report interval."""

    episode_returns: list[dict[str, float]]
    losses: list[dict[str, float]]


class JobSummary(BaseModel):
    job_id: str
    run_id: int
    status: JobStatusName
    progress: float
    step: int
    total_steps: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None


class JobStatus(JobSummary):
    """`learning_curve` so far; `report` (the evaluation) once succeeded; `artifacts` ready."""

    learning_curve: LearningCurve
    report: dict[str, Any] | None
    artifacts: list[ArtifactName]


class JobList(BaseModel):
    jobs: list[JobSummary]


class Health(BaseModel):
    status: Literal["ok"]
    queued: int
    running: int
    max_workers: int
