"""The backend's training API with the node down: 503, nothing lost, users kept apart."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import create_api_key
from tests.training.runs import SMALL_TRAINING, ingest, run_batch


def pending_job(
    client: TestClient, headers: dict[str, str], key_headers: dict[str, str]
) -> tuple[int, int]:
    """A run and its training job, kept pending_submit: the node is down (503)."""
    run_id = ingest(client, key_headers, run_batch())
    response = client.post(f"/api/runs/{run_id}/training", json=SMALL_TRAINING, headers=headers)
    assert response.status_code == 503, response.text
    job_id = int(client.get("/api/training/jobs", headers=headers).json()["jobs"][0]["id"])
    return run_id, job_id


class TestTrainingWhileTheNodeIsDown:
    def test_503_names_the_job_which_is_kept_pending(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        from backend.training.service import TrainingService, training_service

        # The monitor retries pending jobs on its own (a run's end wakes it); while a retry is
        # in flight the job reads `submitting`. With the app's service swapped for one whose
        # monitor is not started, the create's attempt is the only one.
        context = client.app.state.context  # type: ignore[attr-defined]
        training_service(context).stop()
        context.extras["training"] = TrainingService(context)
        run_id = ingest(client, alice_key, run_batch())
        response = client.post(f"/api/runs/{run_id}/training", json=SMALL_TRAINING, headers=alice)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["error"] == "training_node_unavailable"
        assert "pending_submit" in body["detail"]
        jobs = client.get("/api/training/jobs", headers=alice).json()["jobs"]
        assert len(jobs) == 1
        job = jobs[0]
        assert job["status"] == "pending_submit"
        assert job["run_id"] == run_id
        assert job["attempts"] == 1  # the create's own attempt
        assert "unreachable" in job["error"]
        assert job["settings"]["hyperparameters"]["steps"] == 200
        detail = client.get(f"/api/training/jobs/{job['id']}", headers=alice).json()
        assert detail["status"] == "pending_submit"
        assert (
            client.get(f"/api/training/jobs/{job['id']}/artifacts/model", headers=alice).status_code
            == 404
        )
        cancelled = client.post(f"/api/training/jobs/{job['id']}/cancel", headers=alice).json()
        assert cancelled["status"] == "cancelled"

    def test_invalid_settings_get_422_naming_the_field(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = ingest(client, alice_key, run_batch())
        bad = {**SMALL_TRAINING, "hyperparameters": {"learning_rate": -1}}
        response = client.post(f"/api/runs/{run_id}/training", json=bad, headers=alice)
        assert response.status_code == 422
        assert "hyperparameters.learning_rate" in response.json()["detail"]
        too_wide = {**SMALL_TRAINING, "environment": {"window": 300}}
        response = client.post(f"/api/runs/{run_id}/training", json=too_wide, headers=alice)
        assert response.status_code == 422
        assert "data.bars" in response.json()["detail"]
        assert client.get("/api/training/jobs", headers=alice).json()["jobs"] == []

    def test_another_user_sees_nothing(
        self,
        client: TestClient,
        alice: dict[str, str],
        alice_key: dict[str, str],
        bob: dict[str, str],
    ) -> None:
        run_id, job_id = pending_job(client, alice, alice_key)
        assert (
            client.post(
                f"/api/runs/{run_id}/training", json=SMALL_TRAINING, headers=bob
            ).status_code
            == 404
        )
        assert client.get(f"/api/training/jobs/{job_id}", headers=bob).status_code == 404
        assert client.post(f"/api/training/jobs/{job_id}/cancel", headers=bob).status_code == 404
        assert client.get("/api/training/jobs", headers=bob).json()["jobs"] == []


class TestAutoTraining:
    def test_setting_per_instance_and_a_job_when_a_run_ends(
        self,
        client: TestClient,
        alice: dict[str, str],
        alice_key: dict[str, str],
        bob: dict[str, str],
    ) -> None:
        run_id = ingest(client, alice_key, run_batch("first", end=False))
        instance_id = client.get(f"/api/runs/{run_id}", headers=alice).json()["instance"]["id"]
        url = f"/api/training/instances/{instance_id}/auto"
        assert client.get(url, headers=alice).json()["enabled"] is False
        response = client.put(
            url, json={"enabled": True, "settings": SMALL_TRAINING}, headers=alice
        )
        assert response.status_code == 200, response.text
        assert response.json()["settings"]["hyperparameters"]["steps"] == 200
        assert client.get(url, headers=bob).status_code == 404
        assert client.put(url, json={"enabled": False}, headers=bob).status_code == 404

        ended = ingest(client, alice_key, run_batch("second"))
        # the monitor thread (every 2 s, woken when a run ends) records the automatic job
        jobs = wait_for_jobs(client, alice, 1)
        assert [(j["run_id"], j["trigger"], j["status"]) for j in jobs] == [
            (ended, "auto", "pending_submit")
        ]
        service = client.app.state.context.extras["training"]  # type: ignore[attr-defined]
        service.runs_ended([(1, ended)])  # the same run again: still one automatic job
        service.tick()
        assert len(client.get("/api/training/jobs", headers=alice).json()["jobs"]) == 1


def wait_for_jobs(
    client: TestClient, headers: dict[str, str], count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The user's jobs once there are `count` and none is `submitting`: the monitor thread
    holds that claim only while it calls the node, so a read then saw it ~1 time in 5."""
    deadline = time.monotonic() + timeout
    while True:
        jobs: list[dict[str, Any]] = client.get("/api/training/jobs", headers=headers).json()[
            "jobs"
        ]
        settled = all(job["status"] != "submitting" for job in jobs)
        if (len(jobs) >= count and settled) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.05)


class TestSubmitClaim:
    def test_one_caller_sends_a_pending_job_and_a_stale_claim_is_taken_over(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        import datetime as dt

        from sqlalchemy import update

        from backend.db.models import TrainingJob
        from backend.training.service import SUBMIT_LEASE, TrainingService, training_service

        _, job_id = pending_job(client, alice, alice_key)
        context = client.app.state.context  # type: ignore[attr-defined]
        training_service(context).stop()  # no monitor round races the claims below
        service = TrainingService(context)  # a second sender, e.g. another worker's
        assert service._claim(job_id) is True  # the monitor (or another worker) took it
        assert service._claim(job_id) is False  # a second sender backs off: no double submit
        job = client.get(f"/api/training/jobs/{job_id}", headers=alice).json()
        assert job["status"] == "submitting"
        with context.db.session(write=True) as session:  # the claimant died a while ago
            session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == job_id)
                .values(updated_at=dt.datetime.now(dt.UTC) - SUBMIT_LEASE - dt.timedelta(seconds=1))
            )
        attempts = job["attempts"]
        service.tick()  # takes the stale claim over; the node is still down: pending again
        job = client.get(f"/api/training/jobs/{job_id}", headers=alice).json()
        assert (job["status"], job["attempts"]) == ("pending_submit", attempts + 1)


class TestCancelWhileSending:
    def test_a_job_cancelled_while_the_node_hangs_stays_cancelled(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        from backend.training.client import TrainingNodeClient
        from backend.training.service import training_service

        _, job_id = pending_job(client, alice, alice_key)
        service = training_service(client.app.state.context)  # type: ignore[attr-defined]
        # A node that takes the connection and never answers: the send fails on its timeout.
        with socket.create_server(("127.0.0.1", 0)) as hanging:
            port = hanging.getsockname()[1]
            service.client = TrainingNodeClient(f"http://127.0.0.1:{port}", "t" * 32, timeout=2.0)
            sender = threading.Thread(target=service.tick)
            sender.start()
            (sending,) = wait_for_status(client, alice, "submitting")
            assert sending["id"] == job_id
            cancelled = client.post(f"/api/training/jobs/{job_id}/cancel", headers=alice)
            assert cancelled.json()["status"] == "cancelled", cancelled.text
            sender.join(10)
        job = client.get(f"/api/training/jobs/{job_id}", headers=alice).json()
        assert (job["status"], job["attempts"]) == ("cancelled", sending["attempts"] + 1)


def wait_for_status(
    client: TestClient, headers: dict[str, str], status: str, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The user's jobs in `status`, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = client.get("/api/training/jobs", headers=headers).json()["jobs"]
        found = [job for job in jobs if job["status"] == status]
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no job became {status} in {timeout} s")


class TestPerUserLimit:
    def test_jobs_past_the_users_limit_are_a_429_and_others_are_not_affected(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str],
        bob: dict[str, str],
    ) -> None:  # fmt: skip
        limit = client.app.state.context.settings.max_training_jobs_per_user  # type: ignore[attr-defined]
        run_id = ingest(client, alice_key, run_batch())
        for _ in range(limit):  # kept pending_submit: the node is down
            response = client.post(f"/api/runs/{run_id}/training", json=SMALL_TRAINING,
                                   headers=alice)  # fmt: skip
            assert response.status_code == 503
        refused = client.post(f"/api/runs/{run_id}/training", json=SMALL_TRAINING, headers=alice)
        assert refused.status_code == 429
        assert f"at most {limit} at a time (MAX_TRAINING_JOBS_PER_USER)" in refused.json()["detail"]
        jobs = client.get("/api/training/jobs", headers=alice).json()["jobs"]
        assert len(jobs) == limit  # nothing was recorded for the refused one
        bob_key = {"Authorization": f"Bearer {create_api_key(client, bob)}"}
        bob_run = ingest(client, bob_key, run_batch())
        assert client.post(f"/api/runs/{bob_run}/training", json=SMALL_TRAINING,
                           headers=bob).status_code == 503  # fmt: skip
