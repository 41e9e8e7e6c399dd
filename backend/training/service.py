"""Training jobs: record, submit to the node, follow, cancel, proxy artifacts; auto-training.

A job is committed (`pending_submit`) before the node is asked, so a node that
is down loses nothing: the user gets a 503 that names the job, and the monitor
thread submits it once the node answers again. The monitor also follows every
active job, stores its progress, learning curve and report, and publishes a
`training_progress` message to the user's live channel whenever they change.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fastapi import Response
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from backend.config import load_or_create_secret
from backend.db.models import AutoTraining, StrategyInstance, StrategyRun, TrainingJob
from backend.errors import AppError, Conflict, InvalidPayload, NotFound, TooManyRequests
from backend.training.client import NodeRejected, NodeUnavailable, TrainingNodeClient
from backend.training.package import build_request
from backend.training.schemas import (
    ACTIVE_STATUSES,
    AutoTrainingRead,
    AutoTrainingUpdate,
    LearningCurve,
    TrainingCreate,
    TrainingJobList,
    TrainingJobRead,
)
from backend.webhooks.causes import FINISHED_TRAINING, training_finished

if TYPE_CHECKING:
    from backend.api.context import AppContext

log = logging.getLogger(__name__)

TOKEN_FILE = "training_node_token"
POLL_SECONDS = 2.0
# A claim to submit a job lapses after this: longer than any node request may take.
SUBMIT_LEASE = dt.timedelta(minutes=2)
NODE_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


class TrainingNodeUnavailable(AppError):
    status_code = 503
    code = "training_node_unavailable"


def node_token(context_settings: Any) -> str:
    """`TRAINING_NODE_TOKEN`, else the token generated once in the data directory (mode 0600);
    `run_server.py` hands the same value to the node it starts."""
    token = context_settings.training_node_token
    if token is not None:
        return str(token.get_secret_value())
    return load_or_create_secret(context_settings.data_dir / TOKEN_FILE)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TrainingService:
    def __init__(self, context: AppContext, poll_seconds: float = POLL_SECONDS) -> None:
        self.context = context
        self.client = TrainingNodeClient(
            context.settings.training_node_url, node_token(context.settings)
        )
        self.poll_seconds = poll_seconds
        self._ended: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="training", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None
        self.client.close()

    def runs_ended(self, runs: Iterable[tuple[int, int]]) -> None:
        """(user id, run id) of runs that ended: auto-train those whose instance asks for it."""
        runs = list(runs)
        if runs:
            with self._lock:
                self._ended.extend(runs)
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("training monitor round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One monitor round: auto-train ended runs, submit pending jobs, follow active ones."""
        with self._lock:
            ended, self._ended = self._ended, []
        for user_id, run_id in ended:
            self._auto_train(user_id, run_id)
        with self.context.db.session() as session:
            rows = session.execute(
                select(TrainingJob.id, TrainingJob.status).where(
                    TrainingJob.status.in_(ACTIVE_STATUSES)
                )
            ).all()
        for job_id, status in rows:
            if self._stopping.is_set():
                return
            try:
                if status in ("pending_submit", "submitting"):
                    self.submit(job_id)
                else:
                    self.refresh(job_id)
            except NodeUnavailable:
                return  # the node is down: try every job again next round

    # -- create and submit -----------------------------------------------------------------

    def create(
        self, user_id: int, run_id: int, body: TrainingCreate, trigger: str = "manual"
    ) -> TrainingJobRead:
        with self.context.db.session() as session:
            limit = self.context.settings.max_training_jobs_per_user
            active = session.scalar(
                select(func.count()).where(
                    TrainingJob.user_id == user_id, TrainingJob.status.in_(ACTIVE_STATUSES)
                )
            )
            if (active or 0) >= limit:
                raise TooManyRequests(
                    f"{active} training jobs of yours are not finished; at most {limit} at a "
                    "time (MAX_TRAINING_JOBS_PER_USER): wait for one or cancel it",
                    retry_after=30,
                )
            payload = build_request(session, _run(session, user_id, run_id), body)
        with self.context.db.session(write=True) as session:
            job = TrainingJob(
                user_id=user_id,
                run_id=run_id,
                status="pending_submit",
                trigger=trigger,
                config=body.model_dump(mode="json"),
                progress=0.0,
            )
            session.add(job)
            session.flush()
            job_id = job.id
        try:
            self.submit(job_id, payload)
        except NodeUnavailable as exc:
            raise TrainingNodeUnavailable(
                f"{exc}; training job {job_id} is recorded as pending_submit and will be "
                "submitted when the node is back"
            ) from None
        return self.get(user_id, job_id, refresh=False)

    def _claim(self, job_id: int) -> bool:
        """Take a pending job for sending. One caller wins, across threads and worker
        processes alike (a conditional UPDATE), so a job reaches the node once."""
        now = _now()
        claimable = or_(
            TrainingJob.status == "pending_submit",
            and_(TrainingJob.status == "submitting", TrainingJob.updated_at < now - SUBMIT_LEASE),
        )
        with self.context.db.session(write=True) as session:
            result = session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == job_id, claimable)
                .values(status="submitting", updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def submit(self, job_id: int, payload: dict[str, Any] | None = None) -> None:
        """Send a pending job to the node. NodeUnavailable leaves it pending (attempt counted);
        a rejection fails it with the node's reason. A job another caller is sending is left
        to it."""
        if not self._claim(job_id):
            return
        with self.context.db.session() as session:
            job = session.get(TrainingJob, job_id)
            if job is None:
                return
            if payload is None:
                try:
                    run = _run(session, job.user_id, job.run_id)
                    payload = build_request(session, run, TrainingCreate.model_validate(job.config))
                except (NotFound, InvalidPayload) as exc:
                    self._update(job_id, status="failed", error=f"cannot package the run: {exc}")
                    return
        # Each outcome applies only while the job is still `submitting`: a job cancelled while
        # it was being sent stays cancelled (the attempt is counted all the same).
        try:
            node_job_id = self.client.train(payload)
        except NodeUnavailable as exc:
            self._update(
                job_id,
                attempts_plus=1,
                if_status="submitting",
                status="pending_submit",
                error=f"waiting for the training node: {exc}",
            )
            raise
        except NodeRejected as exc:
            self._update(
                job_id,
                attempts_plus=1,
                if_status="submitting",
                status="failed",
                error=f"the node refused: {exc.detail}",
            )
            return
        queued = self._update(
            job_id,
            attempts_plus=1,
            if_status="submitting",
            status="queued",
            node_job_id=node_job_id,
            error=None,
        )
        if not queued:  # cancelled while it was being sent
            self._update(job_id, node_job_id=node_job_id)
            self.client.cancel(node_job_id)

    # -- follow ----------------------------------------------------------------------------

    def refresh(self, job_id: int) -> None:
        """Merge the node's view of an active job into the stored one (NodeUnavailable passes)."""
        with self.context.db.session() as session:
            job = session.get(TrainingJob, job_id)
            if job is None or job.node_job_id is None or job.status not in ACTIVE_STATUSES:
                return
            node_job_id = job.node_job_id
        try:
            status = self.client.status(node_job_id)
        except NodeRejected as exc:
            if exc.status_code == 404:
                self._update(
                    job_id, status="failed", error=f"the training node has no job {node_job_id}"
                )
            return
        self._update(
            job_id,
            status=status["status"] if status["status"] in NODE_STATUSES else "failed",
            progress=float(status["progress"]),
            error=status.get("error"),
            result={
                "learning_curve": status.get("learning_curve") or {},
                "report": status.get("report"),
                "artifacts": status.get("artifacts") or [],
                "step": status.get("step"),
                "total_steps": status.get("total_steps"),
            },
        )

    def _update(
        self, job_id: int, *, attempts_plus: int = 0, if_status: str | None = None, **fields: Any
    ) -> bool:
        """Set `fields` (and count attempts); with `if_status`, the fields only while the job
        is in that status. Whether they were set."""
        with self.context.db.session(write=True) as session:
            job = session.get(TrainingJob, job_id)
            if job is None:
                return False
            applied = if_status is None or job.status == if_status
            before = (job.status, round(job.progress, 4), job.result)
            for name, value in fields.items() if applied else ():
                setattr(job, name, value)
            job.attempts += attempts_plus
            job.updated_at = _now()
            session.flush()
            after = (job.status, round(job.progress, 4), job.result)
            if before[0] in ACTIVE_STATUSES and job.status in FINISHED_TRAINING:
                training_finished(session, job)  # the webhook, in this transaction
            message = {
                "type": "training_progress",
                "job_id": job.id,
                "run_id": job.run_id,
                "status": job.status,
                "progress": job.progress,
                "error": job.error,
            }
            user_id = job.user_id
        if after != before:  # a new status, progress or learning-curve point
            self.context.broker.publish(user_id, message)
        return applied

    # -- reads and actions for the API -----------------------------------------------------

    def list(self, user_id: int, run_id: int | None, limit: int) -> TrainingJobList:
        with self.context.db.session() as session:
            query = select(TrainingJob).where(TrainingJob.user_id == user_id)
            if run_id is not None:
                query = query.where(TrainingJob.run_id == run_id)
            jobs = session.scalars(
                query.order_by(TrainingJob.created_at.desc(), TrainingJob.id.desc()).limit(limit)
            ).all()
            return TrainingJobList(jobs=[_read(job) for job in jobs])

    def get(self, user_id: int, job_id: int, *, refresh: bool = True) -> TrainingJobRead:
        """The job, with the node's latest status merged in when it is active and reachable."""
        with self.context.db.session() as session:
            _job(session, user_id, job_id)
        if refresh:
            try:
                self.refresh(job_id)
            except NodeUnavailable:
                pass  # the stored status stands; the monitor catches up later
        with self.context.db.session() as session:
            return _read(_job(session, user_id, job_id))

    def cancel(self, user_id: int, job_id: int) -> TrainingJobRead:
        with self.context.db.session() as session:
            job = _job(session, user_id, job_id)
            status, node_job_id = job.status, job.node_job_id
        if status not in ACTIVE_STATUSES:
            raise Conflict(f"job {job_id} is {status}: only an active job can be cancelled")
        if node_job_id is None:
            self._update(job_id, status="cancelled", error="cancelled before it was submitted")
        else:
            try:
                self.client.cancel(node_job_id)
            except NodeUnavailable as exc:
                raise TrainingNodeUnavailable(f"{exc}; job {job_id} was not cancelled") from None
            self.refresh(job_id)
        return self.get(user_id, job_id, refresh=False)

    def artifact(self, user_id: int, job_id: int, name: str) -> Response:
        with self.context.db.session() as session:
            job = _job(session, user_id, job_id)
            node_job_id, status = job.node_job_id, job.status
        if node_job_id is None or status != "succeeded":
            raise NotFound(f"name: job {job_id} has no {name} yet (status {status})")
        try:
            artifact = self.client.artifact(node_job_id, name)
        except NodeUnavailable as exc:
            raise TrainingNodeUnavailable(str(exc)) from None
        except NodeRejected as exc:
            raise NotFound(f"name: {exc.detail}") from None
        filename = f"training-{job_id}-{artifact.filename.rpartition('-')[2]}"
        return Response(
            artifact.content,
            media_type=artifact.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # -- auto-training ---------------------------------------------------------------------

    def get_auto(self, user_id: int, instance_id: int) -> AutoTrainingRead:
        with self.context.db.session() as session:
            _instance(session, user_id, instance_id)
            row = session.get(AutoTraining, instance_id)
            if row is None:
                return AutoTrainingRead(
                    instance_id=instance_id,
                    enabled=False,
                    settings=TrainingCreate(),
                    updated_at=None,
                )
            return _auto_read(row)

    def set_auto(
        self, user_id: int, instance_id: int, body: AutoTrainingUpdate
    ) -> AutoTrainingRead:
        with self.context.db.session(write=True) as session:
            _instance(session, user_id, instance_id)
            row = session.get(AutoTraining, instance_id)
            if row is None:
                row = AutoTraining(instance_id=instance_id, user_id=user_id)
                session.add(row)
            row.enabled = body.enabled
            row.config = body.settings.model_dump(mode="json")
            row.updated_at = _now()
            session.flush()
            return _auto_read(row)

    def _auto_train(self, user_id: int, run_id: int) -> None:
        with self.context.db.session() as session:
            run = session.get(StrategyRun, run_id)
            if run is None or run.instance_id is None:
                return
            setting = session.get(AutoTraining, run.instance_id)
            if setting is None or not setting.enabled:
                return
            already = session.scalar(
                select(TrainingJob.id).where(
                    TrainingJob.run_id == run_id, TrainingJob.trigger == "auto"
                )
            )
            if already is not None:
                return  # trades of an ended run changed again: one automatic training per run
            body = TrainingCreate.model_validate(setting.config)
        try:
            self.create(user_id, run_id, body, trigger="auto")
        except TrainingNodeUnavailable:
            pass  # recorded as pending_submit; submitted on a later round
        except (InvalidPayload, TooManyRequests) as exc:  # a bad setting, or at the user's limit
            log.warning("automatic training of run %s skipped: %s", run_id, exc.detail)


def training_service(context: AppContext) -> TrainingService:
    """The app's training service, created on first use."""
    service = context.extras.get("training")
    if service is None:
        service = context.extras.setdefault("training", TrainingService(context))
    assert isinstance(service, TrainingService)
    return service


def _run(session: Session, user_id: int, run_id: int) -> StrategyRun:
    run = session.get(StrategyRun, run_id)
    if run is None or run.user_id != user_id:
        raise NotFound(f"run_id: no run {run_id}")
    return run


def _job(session: Session, user_id: int, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None or job.user_id != user_id:
        raise NotFound(f"job_id: no training job {job_id}")
    return job


def _instance(session: Session, user_id: int, instance_id: int) -> StrategyInstance:
    instance = session.get(StrategyInstance, instance_id)
    if instance is None or instance.user_id != user_id:
        raise NotFound(f"instance_id: no strategy instance {instance_id}")
    return instance


def _read(job: TrainingJob) -> TrainingJobRead:
    result = job.result or {}
    curve = result.get("learning_curve") or {}
    return TrainingJobRead(
        id=job.id,
        run_id=job.run_id,
        status=job.status,
        trigger=job.trigger,
        progress=job.progress,
        node_job_id=job.node_job_id,
        attempts=job.attempts,
        error=job.error,
        settings=job.config,
        learning_curve=LearningCurve(
            episode_returns=curve.get("episode_returns", []), losses=curve.get("losses", [])
        ),
        report=result.get("report"),
        artifacts=result.get("artifacts", []),
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def _auto_read(row: AutoTraining) -> AutoTrainingRead:
    return AutoTrainingRead(
        instance_id=row.instance_id,
        enabled=row.enabled,
        settings=TrainingCreate.model_validate(row.config),
        updated_at=row.updated_at,
    )
