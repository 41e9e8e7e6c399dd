"""The training node's API: queue a training, follow it, cancel it, fetch its artifacts.

Every route but `/health` needs `Authorization: Bearer <TRAINING_NODE_TOKEN>`.
Errors are `{"error": ..., "detail": ...}` like the backend's; a 422 names the
field (`hyperparameters.gamma: Input should be less than or equal to 1`).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.exceptions import HTTPException

from services.training_node.config import NodeConfig
from services.training_node.scheduler import Scheduler
from services.training_node.schemas import (
    ARTIFACTS,
    ArtifactName,
    Health,
    JobCreated,
    JobList,
    JobStatus,
    JobSummary,
    LearningCurve,
)
from services.training_node.settings import TrainRequest
from services.training_node.store import QUEUED, RUNNING, SUCCEEDED, JobRecord, JobStore


class NodeError(Exception):
    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.code, self.detail = status_code, code, detail


def create_app(config: NodeConfig, *, start_scheduler: bool = True) -> FastAPI:
    store = JobStore(config.data_dir)
    scheduler = Scheduler(config, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_scheduler:
            scheduler.start()
        try:
            yield
        finally:
            if start_scheduler:
                scheduler.stop()

    app = FastAPI(
        title="Fillbook training node",
        version="1.0.0",
        description="Trains DQN agents on a run's bars in worker processes.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.scheduler = scheduler

    def authenticate(authorization: Annotated[str | None, Header()] = None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), config.token.encode()
        ):
            raise NodeError(401, "not_authenticated", "a valid service token is required")

    auth = [Depends(authenticate)]

    def job_or_404(job_id: str) -> JobRecord:
        record = store.get(job_id)
        if record is None:
            raise NodeError(404, "not_found", f"job_id: no job {job_id!r}")
        return record

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness and queue depth (no token needed)."""
        return Health(
            status="ok",
            queued=len(store.list_jobs(10_000, QUEUED)),
            running=len(store.list_jobs(10_000, RUNNING)),
            max_workers=config.max_workers,
        )

    @app.post("/train", status_code=202, response_model=JobCreated, dependencies=auth)
    def train(request: TrainRequest) -> JobCreated:
        """Queue a training on the data sent; the job runs in a worker process."""
        job_id = store.create(
            request.run_id, request.hyperparameters.steps, request.model_dump_json()
        )
        scheduler.notify()
        return JobCreated(job_id=job_id, status=QUEUED)

    @app.get("/status/{job_id}", response_model=JobStatus, dependencies=auth)
    def status(job_id: str) -> JobStatus:
        """A job's status, progress, learning curve so far, and its report once done."""
        return _status(store, job_or_404(job_id))

    @app.get("/jobs", response_model=JobList, dependencies=auth)
    def jobs(limit: int = 100) -> JobList:
        """The latest jobs, newest first."""
        return JobList(jobs=[_summary(r) for r in store.list_jobs(max(1, min(limit, 1000)))])

    @app.post("/jobs/{job_id}/cancel", response_model=JobStatus, dependencies=auth)
    def cancel(job_id: str) -> JobStatus:
        """Cancel a job: at once when queued; a running one stops at its next progress report."""
        job_or_404(job_id)
        record = store.request_cancel(job_id)
        assert record is not None
        scheduler.notify()
        return _status(store, record)

    @app.get("/jobs/{job_id}/artifacts/{name}", dependencies=auth, response_class=FileResponse)
    def artifact(job_id: str, name: ArtifactName) -> FileResponse:
        """A finished job's file: `model` (.keras), `log` (CSV), `report` (JSON), `plot` (PNG)."""
        record = job_or_404(job_id)
        filename, media_type = ARTIFACTS[name]
        path = store.folder(job_id) / filename
        if record.status != SUCCEEDED or not path.exists():
            raise NodeError(
                404, "not_found", f"name: job {job_id} has no {name} (status {record.status})"
            )
        return FileResponse(path, media_type=media_type, filename=f"{job_id}-{filename}")

    _install_errors(app)
    return app


def _summary(record: JobRecord) -> JobSummary:
    return JobSummary(
        job_id=record.id,
        run_id=record.run_id,
        status=record.status,
        progress=record.progress,
        step=record.step,
        total_steps=record.total_steps,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        error=record.error,
    )


def _status(store: JobStore, record: JobRecord) -> JobStatus:
    folder = store.folder(record.id)
    ready: list[Any] = []
    if record.status == SUCCEEDED:
        ready = [name for name, (filename, _) in ARTIFACTS.items() if (folder / filename).exists()]
    return JobStatus(
        **_summary(record).model_dump(),
        learning_curve=LearningCurve(
            episode_returns=record.curve.get("episode_returns", []),
            losses=record.curve.get("losses", []),
        ),
        report=record.report,
        artifacts=ready,
    )


def _field(loc: Sequence[int | str]) -> str:
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(NodeError)
    async def _node_error(_request: Request, exc: NodeError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"error": exc.code, "detail": exc.detail}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": _field(error.get("loc", ())),
                "problem": str(error.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for error in exc.errors()
        ]
        detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(
            {"error": "invalid_payload", "detail": detail, "errors": problems}, status_code=422
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "detail": str(exc.detail)}, status_code=exc.status_code
        )
