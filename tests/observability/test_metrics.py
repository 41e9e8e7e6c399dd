"""GET /metrics: who may scrape it, and that each metric moves with what it measures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from backend.api.app import create_app
from backend.db.models import TrainingJob
from tests.conftest import make_settings
from tests.ingest.helpers import batch, fill, push

METRICS_TOKEN = "scraper-secret-0123456789"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def scraped(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(database_url, tmp_path / "data", metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


class TestAccess:
    def test_needs_the_metrics_token_or_an_admin(
        self, scraped: TestClient
    ) -> None:
        from tests.conftest import create_api_key, login, register

        register(scraped, "admin")
        admin = login(scraped, "admin")
        register(scraped, "user")
        user = login(scraped, "user")
        key = {"Authorization": f"Bearer {create_api_key(scraped, admin)}"}
        assert scraped.get("/metrics").status_code == 401
        assert scraped.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert scraped.get("/metrics", headers=user).status_code == 403
        assert scraped.get("/metrics", headers=key).status_code == 403
        for headers in (admin, {"Authorization": f"Bearer {METRICS_TOKEN}"}):
            response = scraped.get("/metrics", headers=headers)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


class TestValues:
    def test_ingest_rebuild_stream_and_training_metrics_move(self, scraped: TestClient) -> None:
        from tests.conftest import create_api_key, login, register

        register(scraped, "alice")
        alice = login(scraped, "alice")
        key = {"Authorization": f"Bearer {create_api_key(scraped, alice)}"}
        scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        before = _samples(scraped.get("/metrics", headers=scrape).text)
        assert before[("fillbook_ingest_events_total", (("outcome", "accepted"),))] == 0
        assert before[("fillbook_stream_clients", ())] == 0

        events = [fill("x1", "2024-01-02T10:00:00Z", "buy", 1, 10.0),
                  fill("x2", "2024-01-02T10:01:00Z", "sell", 1, 11.0),
                  fill("x3", "2024-01-02T10:02:00Z", "sell", -1, 11.0)]  # fmt: skip
        push(scraped, key, batch(events))
        push(scraped, key, batch(events[:2]))  # replayed: duplicates
        assert scraped.post("/api/ingest", content=b"{", headers={**key, "Content-Type": "application/json"}).status_code == 400
        assert scraped.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        with scraped.app.state.context.db.session(write=True) as session:  # type: ignore[attr-defined]
            session.add_all([TrainingJob(user_id=1, run_id=1, status="queued"),
                             TrainingJob(user_id=1, run_id=1, status="queued"),
                             TrainingJob(user_id=1, run_id=1, status="succeeded")])  # fmt: skip

        token = alice["Authorization"].removeprefix("Bearer ")
        with scraped.websocket_connect(f"/api/stream?token={token}") as socket:
            socket.receive_json()
            after = _samples(scraped.get("/metrics", headers=scrape).text)
        assert after[("fillbook_stream_clients", ())] == 1
        outcome = {o: after[("fillbook_ingest_events_total", (("outcome", o),))]
                   for o in ("accepted", "duplicate", "rejected")}  # fmt: skip
        assert outcome == {"accepted": 2, "duplicate": 2, "rejected": 1}
        assert after[("fillbook_ingest_batches_total", (("status", "200"),))] == 2
        assert after[("fillbook_ingest_batches_total", (("status", "400"),))] == 1
        assert after[("fillbook_ingest_batch_seconds_count", ())] == 2
        assert after[("fillbook_ingest_batch_seconds_sum", ())] > 0
        assert after[("fillbook_rebuild_seconds_count", ())] >= 1
        assert after[("fillbook_training_jobs", (("status", "queued"),))] == 2
        assert after[("fillbook_training_jobs", (("status", "succeeded"),))] == 1
