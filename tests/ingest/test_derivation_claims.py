"""A position is derived from a read snapshot and written after: data that arrives in
between is never lost, and the write step holds the lock only to write."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import PendingDerivation, Trade
from backend.ingest.derivations import Derivation, Prepared
from backend.ingest.timestamps import parse_ts
from backend.trades.rebuild import prepare_rebuild
from tests.ingest.helpers import app_context, batch, fill, pending_derivations, push


def _trades(client: TestClient) -> list[tuple[int, int | None, bool]]:
    with app_context(client).db.session() as session:
        rows = session.execute(select(Trade.id, Trade.exit_ts, Trade.is_open).order_by(Trade.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


class TestClaims:
    def test_fills_arriving_while_a_position_is_computed_are_derived_after(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        """The preparer pushes a closing fill mid-computation, as a concurrent batch would:
        the write step sees `touched_from` and leaves the position pending from there."""
        runner = app_context(client).ingest.derivations
        pushed: list[bool] = []

        def prepare_and_meanwhile(session: Session, derivation: Derivation) -> Prepared:
            write = prepare_rebuild(session, derivation)
            if not pushed:  # while the first computation holds its result, new data arrives
                pushed.append(True)
                push(client, alice_key, batch([fill("x2", "2024-01-02T10:05:00Z", "sell", 1,
                                                    101.0)]))  # fmt: skip
            return write

        runner.preparers[:] = [prepare_and_meanwhile]
        push(client, alice_key, batch([fill("x1", "2024-01-02T10:00:00Z", "buy", 1, 100.0)]))
        assert runner.wait_idle()
        assert pushed == [True]
        # The trade the first computation stored open was replaced by the closed one.
        assert _trades(client) == [(1, parse_ts("2024-01-02T10:05:00Z"), False)]
        assert pending_derivations(app_context(client)) == 0

    def test_a_stale_claim_is_anybodys_and_a_fresh_one_is_left_alone(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        import datetime as dt

        context = app_context(client)
        runner = context.ingest.derivations
        runner.preparers[:] = []  # nothing derives: the row stays as the test sets it
        push(client, alice_key, batch([fill("y1", "2024-01-02T10:00:00Z", "buy", 1, 100.0)]))
        assert runner.wait_idle()
        runner.preparers[:] = [prepare_rebuild]
        with context.db.session(write=True) as session:
            session.add(PendingDerivation(user_id=1, run_id=1, account="", symbol="MESZ3",
                                          from_ts=0, claimed_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        runner.notify()
        assert runner.wait_idle()
        assert pending_derivations(context) == 1  # another runner's fresh claim: left alone
        assert _trades(client) == []
        with context.db.session(write=True) as session:
            row = session.scalars(select(PendingDerivation)).one()
            row.claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)  # it crashed
        runner.notify()
        assert runner.wait_idle()
        assert pending_derivations(context) == 0
        assert _trades(client) == [(1, None, True)]

    def test_a_killed_process_claims_are_released_when_the_next_starts_on_sqlite(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        """SQLite has one runner: a claim found at start is a dead process's, and waiting
        CLAIM_SECONDS for it would freeze the position's trades after every crash."""
        import datetime as dt

        context = app_context(client)
        runner = context.ingest.derivations
        runner.preparers[:] = []
        push(client, alice_key, batch([fill("z1", "2024-01-02T10:00:00Z", "buy", 1, 100.0)]))
        assert runner.wait_idle()
        with context.db.session(write=True) as session:
            session.add(PendingDerivation(user_id=1, run_id=1, account="", symbol="MESZ3",
                                          from_ts=0, claimed_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        runner.stop()  # the process that claimed it is gone; the next one starts
        runner.preparers[:] = [prepare_rebuild]
        runner.start()
        assert runner.wait_idle()
        if context.db.engine.dialect.name == "sqlite":
            assert pending_derivations(context) == 0
            assert _trades(client) == [(1, None, True)]
        else:  # other workers' runners may be alive: their claims are theirs until stale
            assert pending_derivations(context) == 1
            assert _trades(client) == []
