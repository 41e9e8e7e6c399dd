"""Deliveries to a real HTTP receiver on loopback (the private-address allowance on), the
outbox's transaction, retries with back-off, disabling, redirects and rebinding (both databases)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_app
from backend.db.models import WebhookDelivery, WebhookEvent
from backend.webhooks import EventType, publish
from backend.webhooks.service import webhook_sender
from tests.conftest import create_api_key, login, register
from tests.ingest.helpers import CONTRACT_EVENTS, app_context, batch, push
from tests.webhooks.receiver import Receiver

FAST = {
    "webhook_allow_private": True,
    "webhook_poll_seconds": 0.05,
    "webhook_timeout_seconds": 2.0,
    "webhook_retry_base_seconds": 0.4,
    "webhook_retry_cap_seconds": 5.0,
    "webhook_max_attempts": 3,
    "webhook_disable_after": 2,
}


def app_client(database_url: str, tmp_path: Path, **overrides: Any) -> TestClient:
    from tests.conftest import make_settings

    return TestClient(create_app(make_settings(database_url, tmp_path / "data",
                                               **{**FAST, **overrides})))  # fmt: skip


@pytest.fixture
def fast(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with app_client(database_url, tmp_path) as client:
        yield client


def user(client: TestClient, name: str = "alice") -> dict[str, str]:
    register(client, name)
    return login(client, name)


def endpoint(
    client: TestClient, headers: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = client.post("/api/webhooks", json={"url": url, "events": events or ["run.ended"]},
                           headers=headers)  # fmt: skip
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(client: TestClient, headers: dict[str, str], webhook_id: int) -> list[Any]:
    response = client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def settled(client: TestClient, headers: dict[str, str], webhook_id: int,
            timeout: float = 10.0) -> list[Any]:  # fmt: skip
    """The delivery log once no delivery is pending."""
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(client, headers, webhook_id)
        if items and all(item["status"] != "pending" for item in items):
            return items
        assert time.monotonic() < deadline, f"still pending: {items}"
        time.sleep(0.05)


class TestDelivery:
    def test_a_test_event_reaches_the_receiver_signed(self, fast: TestClient) -> None:
        alice = user(fast)
        with Receiver() as receiver:
            created = endpoint(fast, alice, receiver.url)
            sent = fast.post(f"/api/webhooks/{created['id']}/test", headers=alice)
            assert sent.status_code == 202, sent.text
            (got,) = receiver.wait_for(1)
            items = settled(fast, alice, created["id"])
        body = orjson.loads(got.body)
        assert body["id"] == sent.json()["event_id"]
        assert body["type"] == "webhook.test"
        assert body["data"] == {"endpoint_id": created["id"], "message": "a test event from Fillbook"}
        assert got.path == "/hook"
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["Fillbook-Webhook-Id"] == sent.json()["delivery_id"]
        assert got.headers["Fillbook-Webhook-Event"] == "webhook.test"
        stamp = got.headers["Fillbook-Webhook-Timestamp"]
        assert abs(int(stamp) - time.time()) < 60
        digest = hmac.new(created["secret"].encode(), stamp.encode() + b"." + got.body,
                          hashlib.sha256).hexdigest()  # fmt: skip
        assert got.headers["Fillbook-Webhook-Signature"] == f"v1={digest}"
        (item,) = items
        assert (item["id"], item["status"], item["attempts"], item["response_status"],
                item["error"], item["response_excerpt"]) == (
            sent.json()["delivery_id"], "succeeded", 1, 200, None, "got it (200)")  # fmt: skip
        assert item["event_type"] == "webhook.test"
        assert item["completed_at"] is not None

    def test_a_failing_receiver_is_retried_with_growing_waits(self, fast: TestClient) -> None:
        alice = user(fast)
        with Receiver(statuses=[500, 503]) as receiver:
            created = endpoint(fast, alice, receiver.url)
            fast.post(f"/api/webhooks/{created['id']}/test", headers=alice)
            first, second, third = receiver.wait_for(3)
            (item,) = settled(fast, alice, created["id"])
        # base 0.4 s, equal jitter: the 1st wait is in [0.2, 0.4], the 2nd in [0.4, 0.8]
        # (plus one 0.05 s poll and the time of a round; bounded above generously).
        assert 0.2 <= second.at - first.at <= 0.4 + 0.5
        assert 0.4 <= third.at - second.at <= 0.8 + 0.5
        assert {r.headers["Fillbook-Webhook-Id"] for r in (first, second, third)} == {item["id"]}
        assert (item["status"], item["attempts"], item["response_status"], item["error"]) == (
            "succeeded", 3, 200, None)  # fmt: skip
        assert fast.get(f"/api/webhooks/{created['id']}", headers=alice).json()[
            "consecutive_failures"] == 0  # fmt: skip

    def test_disabled_after_two_deliveries_fail_for_good_and_enabled_by_hand(
        self, fast: TestClient
    ) -> None:
        alice = user(fast)
        with Receiver(statuses=[500] * 6) as receiver:
            created = endpoint(fast, alice, receiver.url)
            path = f"/api/webhooks/{created['id']}"
            fast.post(f"{path}/test", headers=alice)
            fast.post(f"{path}/test", headers=alice)
            receiver.wait_for(6)
            items = settled(fast, alice, created["id"])
            state = fast.get(path, headers=alice).json()
            assert [(i["status"], i["attempts"], i["response_status"], i["error"]) for i in items] \
                == [("failed", 3, 500, "the endpoint answered 500")] * 2  # fmt: skip
            assert (state["enabled"], state["consecutive_failures"]) == (False, 2)
            assert state["disabled_reason"] == (
                "disabled after 2 deliveries in a row failed all 3 attempts; "
                "last error: the endpoint answered 500"
            )
            refused = fast.post(f"{path}/test", headers=alice)
            assert refused.status_code == 409
            assert refused.json()["detail"] == (
                f"webhook {created['id']} is disabled: enable it to send a test event"
            )
            enabled = fast.patch(path, json={"enabled": True}, headers=alice).json()
            assert (enabled["enabled"], enabled["consecutive_failures"],
                    enabled["disabled_reason"]) == (True, 0, None)  # fmt: skip
            fast.post(f"{path}/test", headers=alice)
            receiver.wait_for(7)  # the receiver answers 200 now
            assert settled(fast, alice, created["id"])[0]["status"] == "succeeded"

    def test_redirects_are_not_followed(self, fast: TestClient) -> None:
        alice = user(fast)
        with Receiver() as elsewhere, Receiver(statuses=[302] * 3,
                                               location=elsewhere.url) as receiver:  # fmt: skip
            created = endpoint(fast, alice, receiver.url)
            fast.post(f"/api/webhooks/{created['id']}/test", headers=alice)
            receiver.wait_for(3)
            (item,) = settled(fast, alice, created["id"])
            assert elsewhere.received == []
        assert (item["status"], item["response_status"], item["error"]) == (
            "failed", 302, f"redirects are not followed: 302 to {elsewhere.url!r}")  # fmt: skip

    def test_no_answer_in_time_is_a_failed_attempt(self, database_url: str, tmp_path: Path) -> None:
        import socket

        with app_client(database_url, tmp_path, webhook_timeout_seconds=0.3,
                        webhook_max_attempts=1) as client, socket.socket() as silent:  # fmt: skip
            silent.bind(("127.0.0.1", 0))
            silent.listen()  # accepts the connection, never answers
            alice = user(client)
            created = endpoint(client, alice, f"http://127.0.0.1:{silent.getsockname()[1]}/h")
            client.post(f"/api/webhooks/{created['id']}/test", headers=alice)
            (item,) = settled(client, alice, created["id"])
        assert (item["status"], item["attempts"], item["error"]) == (
            "failed", 1, "no answer within 0.3 s")  # fmt: skip


class TestRefusedAtSend:
    def test_a_name_that_rebinds_to_loopback_is_refused_at_the_send(
        self, database_url: str, tmp_path: Path
    ) -> None:
        """Registered while it resolved to a public address; at the send it resolves to
        127.0.0.1, and nothing is sent (without the private-address allowance)."""
        with app_client(database_url, tmp_path, webhook_allow_private=False,
                        webhook_max_attempts=1) as client, Receiver() as receiver:  # fmt: skip
            alice = user(client)
            sender = webhook_sender(app_context(client))
            answers = iter([["93.184.216.34"], ["127.0.0.1"]])
            sender.resolve = lambda _host, _port: next(answers)
            port = receiver.server.server_address[1]
            created = endpoint(client, alice, f"https://rebind.example.com:{port}/hook")
            client.post(f"/api/webhooks/{created['id']}/test", headers=alice)
            (item,) = settled(client, alice, created["id"])
            assert receiver.received == []
        assert (item["status"], item["response_status"], item["error"]) == (
            "failed", None,
            "webhooks are not sent to rebind.example.com: 127.0.0.1 is a loopback address; an "
            "admin may allow it with WEBHOOK_ALLOW_PRIVATE=1 or WEBHOOK_ALLOWED_HOSTS")  # fmt: skip


class TestOutbox:
    def test_a_rolled_back_cause_records_nothing_and_a_committed_one_is_sent(
        self, fast: TestClient
    ) -> None:
        alice = user(fast)
        context = app_context(fast)
        with Receiver() as receiver:
            created = endpoint(fast, alice, receiver.url, ["risk.breach", "run.ended"])
            user_id = fast.get("/api/auth/me", headers=alice).json()["id"]

            def failing_cause() -> None:
                with context.db.session(write=True) as session:
                    publish(session, user_id, EventType.RISK_BREACH, {"rule": "daily_loss"})
                    raise RuntimeError("the cause failed")

            with pytest.raises(RuntimeError, match="the cause failed"):
                failing_cause()
            with context.db.session() as session:
                assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
            with context.db.session(write=True) as session:
                event_id = publish(session, user_id, EventType.RISK_BREACH,
                                   {"rule": "daily_loss"}, key="breach:1")  # fmt: skip
                assert publish(session, user_id, EventType.RISK_BREACH, {"rule": "x"},
                               key="breach:1") is None  # fmt: skip
                publish(session, user_id, EventType.TRAINING_FINISHED, {"job_id": 1})  # not subscribed
            (got,) = receiver.wait_for(1)
            settled(fast, alice, created["id"])
        assert orjson.loads(got.body)["id"] == event_id
        assert orjson.loads(got.body)["data"] == {"rule": "daily_loss"}
        with context.db.session() as session:
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
            assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 2

    def test_a_run_end_is_published_once(self, fast: TestClient) -> None:
        alice = user(fast)
        key = {"Authorization": f"Bearer {create_api_key(fast, alice)}"}
        with Receiver() as receiver:
            created = endpoint(fast, alice, receiver.url, ["run.ended"])
            push(fast, key, batch(CONTRACT_EVENTS))
            (got,) = receiver.wait_for(1)
            push(fast, key, batch([{"type": "execution", "id": "x-9002", "order_id": "o-17",
                                    "ts": "2023-12-15T15:00:00Z", "symbol": "MESZ3",
                                    "side": "sell", "qty": 2, "price": 4702.25}]))  # fmt: skip
            time.sleep(1.0)  # an ended run's metrics are refreshed again: no second event
            assert len(receiver.received) == 1
            settled(fast, alice, created["id"])
        body = orjson.loads(got.body)
        assert body["type"] == "run.ended"
        data = body["data"]
        assert (data["source"], data["key"], data["status"], data["ended_ts"]) == (
            "quantower-desk-1", batch([])["run"]["key"], "completed", 1702674000000000000)  # fmt: skip
        assert data["metrics"]["trade_count"] == 0
