"""A re-derivation writes only the rows that changed (issue 17), on SQLite and PostgreSQL.

After a multiplier change every trade's money changes and not one fill part does: the
trades are updated in place (the user's notes kept, `updated_at` moved), the part rows are
the very rows stored before (SQLite's rowid, PostgreSQL's ctid: a rewritten row gets a new
one). A late fill then changes the last trade: its parts are replaced, the first trade's
stay. A re-derivation that changes nothing writes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.ingest.helpers import app_context, batch, fill, push

T = "2024-03-04T14:{:02d}:00Z"
RUN = {"key": "es-1", "strategy": "ORB", "mode": "live"}


def _settle(client: TestClient) -> None:
    assert app_context(client).ingest.derivations.wait_idle(timeout=30)


def _rows(client: TestClient) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(id, net_pnl, notes, updated_at) of the trades, (row identity, trade_id,
    execution_id, qty) of their parts."""
    engine = app_context(client).db.engine
    identity = "rowid" if engine.dialect.name == "sqlite" else "ctid::text"
    with engine.connect() as connection:
        trades = connection.execute(
            text("SELECT id, net_pnl, notes, updated_at FROM trade ORDER BY entry_ts")
        ).all()
        parts = connection.execute(
            text(f"SELECT {identity}, trade_id, execution_id, qty FROM trade_fill"
                 " ORDER BY trade_id, execution_id")  # fmt: skip
        ).all()
    return [tuple(r) for r in trades], [tuple(r) for r in parts]


class TestChangedRows:
    def test_only_what_changed_is_written(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        fills = [
            fill("a1", T.format(1), "buy", 2, 100, commission=0.5, symbol="ES"),
            fill("a2", T.format(2), "sell", 2, 103, commission=0.5, symbol="ES"),
            fill("a3", T.format(3), "sell", 1, 104, commission=0.5, symbol="ES"),
            fill("a4", T.format(5), "buy", 1, 101.5, commission=0.5, symbol="ES"),
        ]
        instrument = {"type": "instrument", "symbol": "ES", "multiplier": 50}
        push(client, alice_key, batch([instrument, *fills], source="desk", run=RUN))
        _settle(client)
        trades, parts = _rows(client)
        # 3 x 2 x 50 - 1 = 299, 2.5 x 1 x 50 - 1 = 124
        assert [float(t[1]) for t in trades] == [299.0, 124.0]
        first = trades[0][0]
        noted = client.patch(f"/api/trades/{first}", json={"notes": "held the open"},
                             headers=alice)  # fmt: skip
        assert noted.status_code == 200, noted.text

        applied = client.patch("/api/instruments/ES?confirm=true", json={"multiplier": 5},
                               headers=alice)  # fmt: skip
        assert applied.status_code == 200, applied.text
        _settle(client)
        repriced, parts_after = _rows(client)
        # 3 x 2 x 5 - 1 = 29, 2.5 x 1 x 5 - 1 = 11.5
        assert [(t[0], float(t[1]), t[2]) for t in repriced] == [
            (first, 29.0, "held the open"), (trades[1][0], 11.5, None),
        ]  # fmt: skip
        assert all(after[3] != before[3] for after, before in zip(repriced, trades, strict=True))
        assert parts_after == parts  # the same four rows, not rewritten

        # A late fill at 14:04 scales the short in, one at 14:06 closes it: the second
        # trade changes and gains two parts; its two stored parts stand, as do the first's.
        more = [fill("a5", T.format(4), "sell", 1, 103, commission=0.5, symbol="ES"),
                fill("a6", T.format(6), "buy", 1, 101, commission=0.5, symbol="ES")]  # fmt: skip
        push(client, alice_key, batch(more, source="desk", run=RUN))
        _settle(client)
        late_trades, late_parts = _rows(client)
        # (103.5 - 101.25) x 2 x 5 - 4 x 0.5 = 20.5
        assert [float(t[1]) for t in late_trades] == [29.0, 20.5]
        assert late_trades[0][3] == repriced[0][3]  # the first trade was not written
        assert late_trades[1][3] != repriced[1][3]
        assert late_parts[:4] == parts  # the stored parts were not rewritten
        assert [(p[1], p[3]) for p in late_parts[4:]] == [(trades[1][0], 1.0)] * 2
        assert len({p[0] for p in late_parts}) == 6
