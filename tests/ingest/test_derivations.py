"""What follows a commit: exactly the touched positions are re-derived, even across restarts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.config import Settings
from backend.ingest.derivations import Derivation
from backend.ingest.timestamps import parse_ts
from tests.conftest import create_api_key, login
from tests.ingest.helpers import app_context, batch, fill, pending_derivations, push


class TestDerivations:
    def test_each_batch_triggers_exactly_the_positions_it_touched(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        seen: list[Derivation] = []
        runner = app_context(client).ingest.derivations
        runner.derivers.append(lambda _session, derivation: seen.append(derivation))

        push(client, alice_key, batch([
            fill("a1", "2023-12-15T14:31:00Z", "buy", 1, 100.0),
            fill("a2", "2023-12-15T14:30:00Z", "buy", 1, 100.0),
            fill("b1", "2023-12-15T14:35:00Z", "sell", 1, 100.0, account="acct-2"),
            fill("c1", "2023-12-15T14:32:00Z", "sell", 1, 50.0, symbol="ESZ3"),
        ]))  # fmt: skip
        assert runner.wait_idle()
        assert sorted(seen, key=lambda d: (d.account, d.symbol)) == [
            Derivation(1, 1, "", "ESZ3", parse_ts("2023-12-15T14:32:00Z")),
            Derivation(1, 1, "", "MESZ3", parse_ts("2023-12-15T14:30:00Z")),
            Derivation(1, 1, "acct-2", "MESZ3", parse_ts("2023-12-15T14:35:00Z")),
        ]
        seen.clear()
        # a bust of an old fill re-derives its position from the fill's time
        push(client, alice_key, batch([{"type": "execution", "op": "remove", "id": "a2"}]))
        assert runner.wait_idle()
        assert seen == [Derivation(1, 1, "", "MESZ3", parse_ts("2023-12-15T14:30:00Z"))]
        seen.clear()
        # bars, orders and a replayed batch touch no position
        push(
            client,
            alice_key,
            batch([fill("c1", "2023-12-15T14:32:00Z", "sell", 1, 50.0, symbol="ESZ3")]),
        )
        push(client, alice_key, batch([{"type": "run_end", "ts": "2023-12-15T21:00:00Z"}]))
        assert runner.wait_idle()
        assert seen == []
        # in a partly replayed batch only the new fills count
        c1 = fill("c1", "2023-12-15T14:32:00Z", "sell", 1, 50.0, symbol="ESZ3")
        d1 = fill("d1", "2023-12-15T14:40:00Z", "buy", 1, 50.0, symbol="ESZ3")
        e1 = fill("e1", "2023-12-15T14:41:00Z", "buy", 1, 50.0, symbol="NQZ3")
        push(client, alice_key, batch([c1, d1, d1]))
        assert runner.wait_idle()
        assert seen == [Derivation(1, 1, "", "ESZ3", parse_ts("2023-12-15T14:40:00Z"))]
        push(client, alice_key, batch([c1, e1]))
        assert runner.wait_idle()
        assert seen[1:] == [Derivation(1, 1, "", "NQZ3", parse_ts("2023-12-15T14:41:00Z"))]
        assert pending_derivations(app_context(client)) == 0

    def test_failed_work_stays_pending_and_a_restart_finishes_it(
        self, settings: Settings, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        runner = app_context(client).ingest.derivations

        def broken(_session: object, _derivation: Derivation) -> None:
            raise RuntimeError("deriver crashed")

        runner.derivers.append(broken)
        push(client, alice_key, batch([fill("a1", "2023-12-15T14:31:00Z", "buy", 1, 100.0)]))
        assert runner.wait_idle()
        assert pending_derivations(app_context(client)) == 1  # committed fills, work recorded, not lost
        client.__exit__(None, None, None)  # the process stops with the work pending

        seen: list[Derivation] = []
        restarted = create_app(settings)
        restarted.state.context.ingest.derivations.derivers.append(
            lambda _session, derivation: seen.append(derivation)
        )
        with TestClient(restarted) as second:
            assert app_context(second).ingest.derivations.wait_idle()
            assert seen == [Derivation(1, 1, "", "MESZ3", parse_ts("2023-12-15T14:31:00Z"))]
            assert pending_derivations(app_context(second)) == 0
            headers = login(second, "alice")
            key = {"Authorization": f"Bearer {create_api_key(second, headers, 'after-restart')}"}
            assert (
                push(second, key, batch([fill("a1", "2023-12-15T14:31:00Z", "buy", 1, 100.0)]))[
                    "duplicates"
                ]
                == 1
            )
