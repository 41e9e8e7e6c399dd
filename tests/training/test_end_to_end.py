"""Backend and training node as real processes: a run trained from the backend, end to end.

The node is down when the training is asked for (503, job kept), comes up, and
the backend submits the job by itself; then the model is downloaded, loaded
with plain Keras, and asked for actions.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.live_server import LiveServer, free_port
from tests.training.runs import SMALL_TRAINING, run_batch
from tests.training_node_server import NodeServer

TOKEN = "end-to-end-node-token-0123456789"


def wait_for_status(
    http: httpx.Client, job_id: int, statuses: tuple[str, ...], timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = http.get(f"/api/training/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.3)
    raise TimeoutError(f"job {job_id} still {job.get('status')}: {job}")


class TestEndToEnd:
    def test_train_from_the_backend_download_load_and_act(self, tmp_path: Path) -> None:
        node_port = free_port()
        backend = LiveServer(
            tmp_path / "backend",
            env={
                "TRAINING_NODE_URL": f"http://127.0.0.1:{node_port}",
                "TRAINING_NODE_TOKEN": TOKEN,
            },
        )
        node = NodeServer(tmp_path / "node", port=node_port, token=TOKEN)
        with backend:
            account = backend.create_account("alice")
            response = httpx.post(
                f"{backend.url}/api/ingest", json=run_batch(), headers=account.ingest_headers
            )
            assert response.status_code == 200, response.text
            run_id = response.json()["run_id"]
            with httpx.Client(base_url=backend.url, headers=account.headers, timeout=30) as http:
                response = http.post(f"/api/runs/{run_id}/training", json=SMALL_TRAINING)
                assert response.status_code == 503, response.text
                job_id = http.get("/api/training/jobs").json()["jobs"][0]["id"]
                try:
                    node.start()
                    job = wait_for_status(http, job_id, ("succeeded", "failed", "cancelled"))
                    assert job["status"] == "succeeded", (job["error"], node.log())
                    assert job["attempts"] >= 2
                    assert job["node_job_id"]
                    assert job["progress"] == 1.0
                    assert job["learning_curve"]["episode_returns"]
                    report = job["report"]
                    assert report["run_id"] == run_id
                    assert report["symbol"] == "MES"
                    assert report["policies"]["strategy"] is not None
                    assert (
                        report["strategy_trades_in_test"]["count"] == 0
                    )  # its trade opened earlier
                    model_bytes = http.get(f"/api/training/jobs/{job_id}/artifacts/model")
                    assert model_bytes.status_code == 200
                    plot = http.get(f"/api/training/jobs/{job_id}/artifacts/plot")
                    assert plot.headers["content-type"] == "image/png"
                finally:
                    node.stop()
        path = tmp_path / "agent.keras"
        path.write_bytes(model_bytes.content)
        import keras

        model = keras.models.load_model(path)
        window, features = 4, 1 + 1 + 2  # returns, signal, regime (trend and volatility)
        assert model.input_shape == (None, window * features + 1)
        observations = np.random.default_rng(0).standard_normal((5, window * features + 1))
        actions = np.argmax(model.predict(observations.astype("float32"), verbose=0), axis=1)
        assert actions.shape == (5,)
        assert set(actions.tolist()) <= {0, 1, 2}
