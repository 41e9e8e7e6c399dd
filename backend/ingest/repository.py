"""Every query of the ingest write path: Core connections, tuples, one executemany per table.

The functions run inside the writer's transaction and never commit. Duplicates
are recognised by the unique indexes (`ON CONFLICT`), and counted from row
counts, so a replayed batch costs less than a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection

from backend.ingest.domain import FINISHED_SQL
from backend.ingest.sql import Dialect

_CHUNK = 500  # bound on ids in one IN (...) list


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class IngestRepository:
    def __init__(
        self,
        connection: Connection,
        dialect: Dialect,
        known_accounts: set[tuple[int, str]] | None = None,
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        # (user, account name) pairs known to exist: the writer's cache (backend/ingest/writer.py)
        self.known_accounts: set[tuple[int, str]] = (
            known_accounts if known_accounts is not None else set()
        )

    def _execute(self, sql: str, params: Any = ()) -> Any:
        return self.connection.exec_driver_sql(self.dialect.q(sql), params)

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        return int(self.connection.exec_driver_sql(self.dialect.q(sql), rows).rowcount)

    # -- runs ---------------------------------------------------------------------------

    def find_run(self, user_id: int, source: str, key: str) -> tuple[Any, ...] | None:
        row = self._execute(
            "SELECT r.id, s.name, i.name, r.mode FROM strategy_run r"
            " JOIN strategy s ON s.id = r.strategy_id"
            " LEFT JOIN strategy_instance i ON i.id = r.instance_id"
            " WHERE r.user_id = ? AND r.source = ? AND r.key = ?",
            (user_id, source, key),
        ).first()
        return None if row is None else tuple(row)

    def ensure_strategy(self, user_id: int, name: str, now: Any) -> int:
        self._execute(
            "INSERT INTO strategy (user_id, name, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, name) DO NOTHING",
            (user_id, name, now),
        )
        return int(
            self._execute(
                "SELECT id FROM strategy WHERE user_id = ? AND name = ?", (user_id, name)
            ).scalar_one()
        )

    def ensure_instance(self, user_id: int, strategy_id: int, name: str, now: Any) -> int:
        self._execute(
            "INSERT INTO strategy_instance (user_id, strategy_id, name, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (strategy_id, name) DO NOTHING",
            (user_id, strategy_id, name, now),
        )
        return int(
            self._execute(
                "SELECT id FROM strategy_instance WHERE strategy_id = ? AND name = ?",
                (strategy_id, name),
            ).scalar_one()
        )

    def create_run(self, row: tuple[Any, ...]) -> None:
        self._execute(
            "INSERT INTO strategy_run (user_id, source, key, strategy_id, instance_id, mode,"
            " status, params, initial_capital, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, source, key) DO NOTHING",
            row,
        )

    def lock_run(self, run_id: int) -> None:
        """Serialise writers of one run across processes (PostgreSQL with several workers).

        Within a process the single writer already does; across processes two
        batches of a run could otherwise each rebuild an order from a snapshot
        that misses the other's events. SQLite has one writer at a time anyway.
        """
        if self.dialect.name == "postgresql":
            self._execute("SELECT pg_advisory_xact_lock(?)", (run_id,))

    def extend_run_start(self, run_id: int, first_ts: int) -> None:
        self._execute(
            "UPDATE strategy_run SET started_ts = "
            + self.dialect.least("COALESCE(started_ts, ?)", "?")
            + " WHERE id = ?",
            (first_ts, first_ts, run_id),
        )

    def end_run(self, run_id: int, status: str, ended_ts: int, now: Any) -> bool:
        """True when this changed the run (a repeated `run_end` is a duplicate)."""
        result = self._execute(
            "UPDATE strategy_run SET status = ?, ended_ts = ?, ended_at = ? WHERE id = ? AND ("
            + self.dialect.differs("status", "?")
            + " OR "
            + self.dialect.differs("ended_ts", "?")
            + ")",
            (status, ended_ts, now, run_id, status, ended_ts),
        )
        return bool(result.rowcount)

    # -- instruments --------------------------------------------------------------------

    def instruments(self, user_id: int, symbols: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(sorted(set(symbols))):
            marks = ", ".join("?" * len(chunk))
            for row in self._execute(
                "SELECT symbol, multiplier, tick_size, currency, asset_class FROM instrument"
                f" WHERE user_id = ? AND symbol IN ({marks})",
                (user_id, *chunk),
            ):
                found[row[0]] = tuple(row[1:])
        return found

    def priced_trades(self, user_id: int, symbol: str) -> tuple[int, int]:
        """(runs, trades) of the user's trades in `symbol`: what a new multiplier re-prices."""
        row = self._execute(
            "SELECT COUNT(DISTINCT run_id), COUNT(*) FROM trade WHERE user_id = ? AND symbol = ?",
            (user_id, symbol),
        ).first()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def upsert_instruments(self, rows: list[tuple[Any, ...]]) -> None:
        self._executemany(
            "INSERT INTO instrument (user_id, symbol, multiplier, tick_size, currency,"
            " asset_class, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, symbol) DO UPDATE SET multiplier = excluded.multiplier,"
            " tick_size = excluded.tick_size, currency = excluded.currency,"
            " asset_class = excluded.asset_class, updated_at = excluded.updated_at",
            rows,
        )

    # -- orders -------------------------------------------------------------------------

    def insert_order_events(self, rows: list[tuple[Any, ...]]) -> int:
        return self._executemany(
            "INSERT INTO order_event (user_id, run_id, source, event_id, order_id, ts, symbol,"
            " side, order_type, qty, status, limit_price, stop_price, tif, parent_id,"
            " filled_qty, avg_fill_price, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, source, event_id) DO NOTHING",
            rows,
        )

    def refresh_orders(self, run_id: int, order_ids: Sequence[str], now: Any) -> None:
        """Make each order's row its latest event by (ts, arrival).

        Every order event is a full snapshot, but a status-only update may omit the
        prices, time in force or parent; those come from the latest event that had them.
        What a trade rebuild reads of a stop is kept here too, from the whole history:
        when it was first finished (`finished_ts`) and its first stop price.
        """
        latest_fields = "symbol, side, order_type, qty, status, filled_qty, avg_fill_price, reason"
        sticky = ("limit_price", "stop_price", "tif", "parent_id")
        sticky_values = ", ".join(
            f"(SELECT p.{c} FROM order_event p WHERE p.run_id = latest.run_id"
            f" AND p.order_id = latest.order_id AND p.{c} IS NOT NULL"
            f" ORDER BY p.ts DESC, p.id DESC LIMIT 1)"
            for c in sticky
        )
        first_stop = (
            "(SELECT p.stop_price FROM order_event p WHERE p.run_id = latest.run_id"
            " AND p.order_id = latest.order_id AND p.stop_price IS NOT NULL"
            " ORDER BY p.ts, p.id LIMIT 1)"
        )
        columns = [c.strip() for c in latest_fields.split(",")] + list(sticky)
        columns += ["first_stop_price", "finished_ts"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
        for chunk in _chunks(sorted(set(order_ids))):
            marks = ", ".join("?" * len(chunk))
            self._execute(
                f'INSERT INTO "order" (user_id, run_id, source, order_id, {", ".join(columns)},'
                " created_ts, ts, last_event_id, updated_at)"
                f" SELECT user_id, run_id, source, order_id, {latest_fields}, {sticky_values},"
                f" {first_stop}, finished_ts, first_ts, ts, id, ?"
                " FROM (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY order_id"
                " ORDER BY ts DESC, id DESC) AS rn,"
                " MIN(ts) OVER (PARTITION BY order_id) AS first_ts,"
                f" MIN(CASE WHEN status IN ({FINISHED_SQL}) THEN ts END)"
                " OVER (PARTITION BY order_id) AS finished_ts"
                f" FROM order_event e WHERE run_id = ? AND order_id IN ({marks})) latest"
                " WHERE rn = 1"
                f" ON CONFLICT (run_id, order_id) DO UPDATE SET {updates},"
                " created_ts = excluded.created_ts, ts = excluded.ts,"
                " last_event_id = excluded.last_event_id, updated_at = excluded.updated_at",
                (now, run_id, *chunk),
            )

    # -- executions ---------------------------------------------------------------------

    def insert_executions(self, rows: list[tuple[Any, ...]]) -> int:
        return self._executemany(
            "INSERT INTO execution (user_id, run_id, source, exec_id, order_id, ts, symbol,"
            " side, qty, price, commission, account, liquidity)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, source, exec_id) DO NOTHING",
            rows,
        )

    def last_execution_pk(self) -> int:
        return int(self._execute("SELECT COALESCE(MAX(id), 0) FROM execution").scalar_one())

    def exec_ids_after(
        self, user_id: int, source: str, exec_ids: Sequence[str], after_pk: int
    ) -> set[str]:
        """Which of `exec_ids` were inserted after row `after_pk` (i.e. by this batch)."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(exec_ids))):
            marks = ", ".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self._execute(
                    "SELECT exec_id FROM execution WHERE user_id = ? AND source = ?"
                    f" AND id > ? AND exec_id IN ({marks})",
                    (user_id, source, after_pk, *chunk),
                )
            )
        return found

    def find_execution(self, user_id: int, source: str, exec_id: str) -> tuple[Any, ...] | None:
        row = self._execute(
            "SELECT id, run_id, account, symbol, ts, order_id, side, qty, price, commission,"
            " liquidity, removed_at FROM execution"
            " WHERE user_id = ? AND source = ? AND exec_id = ?",
            (user_id, source, exec_id),
        ).first()
        return None if row is None else tuple(row)

    def amend_execution(self, pk: int, values: tuple[Any, ...], now: Any) -> None:
        self._execute(
            "UPDATE execution SET account = ?, symbol = ?, ts = ?, order_id = ?, side = ?,"
            " qty = ?, price = ?, commission = ?, liquidity = ?, amended_at = ? WHERE id = ?",
            (*values, now, pk),
        )

    def remove_execution(self, pk: int, now: Any) -> None:
        self._execute("UPDATE execution SET removed_at = ? WHERE id = ?", (now, pk))

    def mark_pending(self, rows: list[tuple[Any, ...]]) -> None:
        """Record positions whose trades must be re-derived from `from_ts` on."""
        self._executemany(
            "INSERT INTO pending_derivation (user_id, run_id, account, symbol, from_ts, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, account, symbol) DO UPDATE SET"
            " retry_at = NULL, from_ts = "  # new data: a failed position is tried again at once
            + self.dialect.least("pending_derivation.from_ts", "excluded.from_ts")
            # and a runner deriving it from a snapshot learns from when its result is stale
            + ", touched_from = "
            + self.dialect.least(
                "COALESCE(pending_derivation.touched_from, excluded.from_ts)", "excluded.from_ts"
            ),
            rows,
        )

    # -- bars ---------------------------------------------------------------------------

    def ensure_series(
        self,
        table: str,
        owner_column: str,
        owner_id: int,
        user_id: int,
        keys: Iterable[tuple[str, int]],
    ) -> dict[tuple[str, int], int]:
        """Ids of (symbol, timeframe_s) series in `market_series` or `run_series`."""
        ids: dict[tuple[str, int], int] = {}
        columns = (
            "user_id, symbol, timeframe_s"
            if owner_column == "user_id"
            else ("user_id, run_id, symbol, timeframe_s")
        )
        for symbol, timeframe_s in sorted(set(keys)):
            values: tuple[Any, ...] = (
                (user_id, symbol, timeframe_s)
                if owner_column == "user_id"
                else (user_id, owner_id, symbol, timeframe_s)
            )
            marks = ", ".join("?" * len(values))
            self._execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                f" ON CONFLICT ({owner_column}, symbol, timeframe_s) DO NOTHING",
                values,
            )
            ids[(symbol, timeframe_s)] = int(
                self._execute(
                    f"SELECT id FROM {table} WHERE {owner_column} = ? AND symbol = ?"
                    " AND timeframe_s = ?",
                    (owner_id, symbol, timeframe_s),
                ).scalar_one()
            )
        return ids

    def upsert_bars(self, table: str, rows: list[tuple[Any, ...]], *, with_values: bool) -> int:
        """Insert bars, or replace a stored bar whose values differ; unchanged bars count 0."""
        columns = ["open", "high", "low", "close", "volume", "bid_volume", "ask_volume"]
        if with_values:
            columns.append('"values"')
        names = ", ".join(columns)
        marks = ", ".join("?" * (len(columns) + 2))
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
        changed = " OR ".join(
            self.dialect.differs(f"{table}.{c}", f"excluded.{c}")
            for c in columns
            if c != '"values"'
        )
        if with_values:
            # JSON has no equality in PostgreSQL; compare its text.
            changed += " OR " + self.dialect.differs(
                f'CAST({table}."values" AS TEXT)', 'CAST(excluded."values" AS TEXT)'
            )
        return self._executemany(
            f"INSERT INTO {table} (series_id, ts, {names}) VALUES ({marks})"
            f" ON CONFLICT (series_id, ts) DO UPDATE SET {sets} WHERE {changed}",
            rows,
        )

    # -- accounts and cash flows --------------------------------------------------------

    def ensure_accounts(self, rows: list[tuple[Any, ...]]) -> None:
        """Create the accounts (user_id, name, now) not there yet, with the defaults."""
        self._executemany(
            "INSERT INTO account (user_id, name, base_currency, starting_balance, type,"
            " created_at, updated_at) VALUES (?, ?, 'USD', 0, 'cash', ?, ?)"
            " ON CONFLICT (user_id, name) DO NOTHING",
            [(user_id, name, now, now) for user_id, name, now in rows],
        )

    def insert_cash_flows(self, rows: list[tuple[Any, ...]]) -> int:
        return self._executemany(
            "INSERT INTO cash_flow (user_id, source, flow_id, account, kind, amount, currency,"
            " ts, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, source, flow_id) DO NOTHING",
            rows,
        )

    def find_cash_flow(self, user_id: int, source: str, flow_id: str) -> tuple[Any, ...] | None:
        row = self._execute(
            "SELECT id, account, kind, amount, currency, ts, note, removed_at FROM cash_flow"
            " WHERE user_id = ? AND source = ? AND flow_id = ?",
            (user_id, source, flow_id),
        ).first()
        return None if row is None else tuple(row)

    def amend_cash_flow(self, pk: int, values: tuple[Any, ...], now: Any) -> None:
        self._execute(
            "UPDATE cash_flow SET account = ?, kind = ?, amount = ?, currency = ?, ts = ?,"
            " note = ?, amended_at = ? WHERE id = ?",
            (*values, now, pk),
        )

    def remove_cash_flow(self, pk: int, now: Any) -> None:
        self._execute("UPDATE cash_flow SET removed_at = ? WHERE id = ?", (now, pk))

    # -- dead letters -------------------------------------------------------------------

    def insert_rejected(self, rows: list[tuple[Any, ...]]) -> None:
        self._executemany(
            "INSERT INTO rejected_event (user_id, run_id, source, batch_index, event_id,"
            " event_type, raw, error, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


json_text = _json
