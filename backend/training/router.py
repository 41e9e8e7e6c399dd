"""Training endpoints: start a training on a run, follow jobs, fetch artifacts, auto-training."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.api.deps import ContextDep
from backend.auth.deps import CanRead, CanTrain
from backend.training.schemas import (
    ArtifactName,
    AutoTrainingRead,
    AutoTrainingUpdate,
    TrainingCreate,
    TrainingJobList,
    TrainingJobRead,
)
from backend.training.service import training_service

router = APIRouter(prefix="/api", tags=["training"])


@router.post(
    "/runs/{run_id}/training",
    status_code=202,
    operation_id="create_training",
    responses={503: {"description": "the training node is down; the job is kept and retried"}},
)
def create_training(
    run_id: int, body: TrainingCreate, principal: CanTrain, context: ContextDep
) -> TrainingJobRead:
    """Train an agent on this run's bars, fills and trades on the training node."""
    return training_service(context).create(principal.user_id, run_id, body)


@router.get("/training/jobs", operation_id="list_training_jobs")
def list_training_jobs(
    principal: CanRead,
    context: ContextDep,
    run_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TrainingJobList:
    """The user's training jobs, newest first (optionally of one run)."""
    return training_service(context).list(principal.user_id, run_id, limit)


@router.get("/training/jobs/{job_id}", operation_id="get_training_job")
def get_training_job(job_id: int, principal: CanRead, context: ContextDep) -> TrainingJobRead:
    """A training job, with progress, learning curve and report merged from the node."""
    return training_service(context).get(principal.user_id, job_id)


@router.post("/training/jobs/{job_id}/cancel", operation_id="cancel_training_job")
def cancel_training_job(job_id: int, principal: CanTrain, context: ContextDep) -> TrainingJobRead:
    """Cancel an active training job."""
    return training_service(context).cancel(principal.user_id, job_id)


@router.get(
    "/training/jobs/{job_id}/artifacts/{name}",
    operation_id="get_training_artifact",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/octet-stream": {},
                "text/csv": {},
                "application/json": {},
                "image/png": {},
            },
            "description": "model (.keras), log (CSV), report (JSON) or plot (PNG)",
        }
    },
)
def get_training_artifact(
    job_id: int, name: ArtifactName, principal: CanRead, context: ContextDep
) -> Response:
    """A finished job's artifact, fetched from the node."""
    return training_service(context).artifact(principal.user_id, job_id, name)


@router.get("/training/instances/{instance_id}/auto", operation_id="get_auto_training")
def get_auto_training(
    instance_id: int, principal: CanRead, context: ContextDep
) -> AutoTrainingRead:
    """Whether runs of this strategy instance are trained on automatically when they end."""
    return training_service(context).get_auto(principal.user_id, instance_id)


@router.put("/training/instances/{instance_id}/auto", operation_id="set_auto_training")
def set_auto_training(
    instance_id: int, body: AutoTrainingUpdate, principal: CanTrain, context: ContextDep
) -> AutoTrainingRead:
    """Turn automatic training on or off for a strategy instance, with its settings."""
    return training_service(context).set_auto(principal.user_id, instance_id, body)
