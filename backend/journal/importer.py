"""Import a journal exported by `export.py` into a user: stored through the ingest path.

Each run's events are stored with the same code that stores an ingest batch, so
identity, duplicates and validation are the ingest contract's: importing the
same file twice stores nothing new. Each run commits on its own (a large import
does not hold SQLite's write lock for its whole length); trades are then
derived, and the trades' notes, tags and setup applied, then the playbooks, mistakes,
trade reviews, days and template (backend/playbooks/transfer.py), the webhook endpoints
(backend/webhooks/transfer.py: disabled, without a secret), and the attachments
(backend/attachments/transfer.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select, update

from backend.analytics.service import refresh_ended_runs
from backend.attachments import transfer as attachment_transfer
from backend.db.engine import Database
from backend.db.models import Execution, Instrument, Trade
from backend.errors import InvalidPayload
from backend.ingest.batch import PreparedBatch
from backend.ingest.decode import NUL_PROBLEM, event_problems, has_nul
from backend.ingest.repository import IngestRepository
from backend.ingest.schemas import EventListAdapter, RunRef
from backend.ingest.sql import Dialect
from backend.ingest.store import store_batch
from backend.journal.export import EXECUTION_FIELDS, FORMAT, ORDER_FIELDS, VERSION
from backend.playbooks import transfer
from backend.webhooks import transfer as webhook_transfer

_CHUNK = 5000
_OHLCV = ("open", "high", "low", "close", "volume", "bid_volume", "ask_volume")


@dataclass
class ImportResult:
    runs: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)  # events the ingest rules refused
    dead_letters: int = 0
    annotations: int = 0
    journal: int = 0  # playbooks, mistakes, trade reviews, days and the template applied
    attachments: int = 0
    webhooks: int = 0  # endpoints made, disabled and without a secret (backend/webhooks)
    run_ids: list[int] = field(default_factory=list)


@dataclass
class ParsedJournal:
    instruments: list[dict[str, Any]] = field(default_factory=list)
    market_bars: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    removals: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    journal: transfer.JournalRecords = field(default_factory=transfer.JournalRecords)
    attachments: list[attachment_transfer.ImportedAttachment] = field(default_factory=list)
    webhooks: list[webhook_transfer.EndpointRecord] = field(default_factory=list)


def parse_journal(lines: Iterable[bytes | str]) -> ParsedJournal:
    """Read and check every line first: a bad file changes nothing."""
    parser = JournalParser()
    parser.feed(lines)
    return parser.finish()


class JournalParser:
    """`parse_journal` line by line, so that an upload is parsed as it arrives instead of
    being held whole in memory first."""

    def __init__(self) -> None:
        self.journal = ParsedJournal()
        self.lines = 0
        self._seen_header = False

    def feed(self, lines: Iterable[bytes | str]) -> None:
        for line in lines:
            self.lines += 1
            if line.strip():
                self._line(self.lines, line)

    def _line(self, number: int, line: bytes | str) -> None:
        try:
            record = orjson.loads(line)
            if has_nul(record):  # as on ingest: PostgreSQL cannot store it, so nowhere does
                raise ValueError(NUL_PROBLEM)
            kind = record["kind"]
            if not self._seen_header:
                if kind != "header" or record.get("format") != FORMAT:
                    raise ValueError(f"the first line must be a {FORMAT} header")
                if record.get("version") != VERSION:
                    raise ValueError(f"version {record.get('version')!r} is not {VERSION}")
                self._seen_header = True
                return
            _add(self.journal, kind, record)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidPayload(f"line {number}: {problem}") from None

    def finish(self) -> ParsedJournal:
        if not self._seen_header:
            raise InvalidPayload(f"the journal is empty: expected a {FORMAT} header line")
        return self.journal


def _add(journal: ParsedJournal, kind: str, record: dict[str, Any]) -> None:
    if kind == "instrument":
        journal.instruments.append(record)
    elif kind == "market_bar":
        journal.market_bars.append(_event(_bar_event(record, "market")))
    elif kind == "run":
        RunRef.model_validate(_run_ref(record))
        journal.runs[(record["source"], record["key"])] = record
    elif kind == "order_event":
        fields = {name: record.get(name) for name in ORDER_FIELDS}
        fields["id"] = fields.pop("event_id")
        journal.events[_ref(journal, record)].append(_event({"type": "order", **fields}))
    elif kind == "execution":
        fields = {name: record.get(name) for name in EXECUTION_FIELDS}
        fields["id"] = fields.pop("exec_id")
        journal.events[_ref(journal, record)].append(_event({"type": "execution", **fields}))
        if record.get("removed"):
            journal.removals[_ref(journal, record)].append(str(fields["id"]))
    elif kind == "run_bar":
        journal.events[_ref(journal, record)].append(_event(_bar_event(record, "run")))
    elif kind == "rejected_event":
        journal.dead_letters.append(record)
    elif kind == "trade_annotation":
        journal.annotations.append(record)
    elif kind == attachment_transfer.KIND:
        journal.attachments.append(attachment_transfer.parse_record(record))
    elif kind == webhook_transfer.KIND:
        journal.webhooks.append(webhook_transfer.parse_record(record))
    elif kind in transfer.KINDS:
        journal.journal.add(kind, record)
    else:
        raise ValueError(f"unknown kind {kind!r}")


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """Validated by the ingest contract's rules; a field exported as null was absent."""
    present = {key: value for key, value in event.items() if value is not None}
    try:
        (validated,) = EventListAdapter.validate_python([present])
    except ValidationError as exc:
        raise ValueError(event_problems(exc, [present])[0]) from None
    return dict(validated)


def _run_ref(run: dict[str, Any]) -> dict[str, Any]:
    return {"key": run["key"], "strategy": run["strategy"], "instance": run.get("instance"),
            "mode": run["mode"], "params": run.get("params") or {},
            "initial_capital": run.get("initial_capital")}  # fmt: skip


def _ref(journal: ParsedJournal, record: dict[str, Any]) -> tuple[str, str]:
    ref = (record["source"], record["run_key"])
    if ref not in journal.runs:
        raise ValueError(f"run {ref[1]!r} of source {ref[0]!r} has no run line before it")
    return ref


def _bar_event(record: dict[str, Any], series: str) -> dict[str, Any]:
    present = {name: record[name] for name in _OHLCV if record.get(name) is not None}
    timeframe = f"{int(record['timeframe_s'])}s"
    event = {"type": "bar", "series": series, "symbol": record["symbol"],
             "timeframe": timeframe, "ts": record["ts"], **present}  # fmt: skip
    if series == "run" and record.get("values") is not None:
        event["values"] = record["values"]
    return event


def import_journal(
    db: Database,
    user_id: int,
    journal: ParsedJournal,
    derive: Callable[[], None],
    data_dir: Path,
) -> ImportResult:
    """Store `journal` as `user_id`'s, derive its trades (`derive`), apply the annotations,
    store the attachments' files under `data_dir`."""
    result = ImportResult()
    dialect = Dialect(db.engine.dialect.name)
    now = dt.datetime.now(dt.UTC)
    if journal.instruments or journal.market_bars:
        with db.write_connection() as connection:
            repo = IngestRepository(connection, dialect)
            _store_market(repo, user_id, journal, now)
    for ref, run in journal.runs.items():
        with db.write_connection() as connection:
            repo = IngestRepository(connection, dialect)
            run_id = _store_run(repo, user_id, ref, run, journal, now, result)
        result.runs += 1
        result.run_ids.append(run_id)
    if journal.dead_letters:
        with db.write_connection() as connection:
            repo = IngestRepository(connection, dialect)
            _store_dead_letters(repo, user_id, journal, now, result)
    derive()
    with db.session(write=True) as session:
        refresh_ended_runs(session, result.run_ids)
        for note in journal.annotations:
            trade_id = session.scalar(
                select(Execution.id).where(
                    Execution.user_id == user_id,
                    Execution.source == note["source"],
                    Execution.exec_id == note["first_exec_id"],
                )
            )
            if trade_id is None:
                continue
            changed = session.execute(
                update(Trade)
                .where(Trade.id == trade_id, Trade.user_id == user_id)
                .values(notes=note.get("notes"), tags=list(note.get("tags") or []),
                        setup=note.get("setup"))  # fmt: skip
            )
            result.annotations += changed.rowcount  # type: ignore[attr-defined]
        result.journal = transfer.apply(session, user_id, journal.journal)
        result.webhooks = webhook_transfer.apply(session, user_id, journal.webhooks)
    result.attachments = attachment_transfer.import_attachments(
        db, data_dir, user_id, journal.attachments
    )
    return result


def _store_market(repo: IngestRepository, user_id: int, journal: ParsedJournal, now: Any) -> None:
    stamp = repo.dialect.timestamp(now)
    checked: list[Any] = EventListAdapter.validate_python(
        [{"type": "instrument", **{k: v for k, v in i.items() if k in _INSTRUMENT_FIELDS}}
         for i in journal.instruments]
    )  # fmt: skip
    repo.upsert_instruments(
        [(user_id, e["symbol"], e.get("multiplier", 1.0), e.get("tick_size"), e.get("currency"),
          e.get("asset_class"), stamp) for e in checked]
    )  # fmt: skip
    for item in journal.instruments:
        if item.get("default_risk") is not None:
            repo.connection.execute(
                update(Instrument)
                .where(Instrument.user_id == user_id, Instrument.symbol == item["symbol"])
                .values(default_risk=float(item["default_risk"]))
            )
    for start in range(0, len(journal.market_bars), _CHUNK):
        bars = journal.market_bars[start : start + _CHUNK]
        keys = [(b["symbol"], b["timeframe"]) for b in bars]
        ids = repo.ensure_series("market_series", "user_id", user_id, user_id, keys)
        rows = [(ids[key], b["ts"], *(b.get(name) for name in _OHLCV))
                for key, b in zip(keys, bars, strict=True)]  # fmt: skip
        repo.upsert_bars("market_bar", rows, with_values=False)


_INSTRUMENT_FIELDS = ("symbol", "multiplier", "tick_size", "currency", "asset_class")


def _store_run(
    repo: IngestRepository,
    user_id: int,
    ref: tuple[str, str],
    run: dict[str, Any],
    journal: ParsedJournal,
    now: dt.datetime,
    result: ImportResult,
) -> int:
    source = ref[0]
    run_ref = RunRef.model_validate(_run_ref(run))
    events = list(journal.events.get(ref, []))
    removed = journal.removals.get(ref, [])
    events += [_event({"type": "execution", "op": "remove", "id": exec_id}) for exec_id in removed]
    if run.get("status") in ("completed", "failed") and run.get("ended_ts") is not None:
        events.append(_event({"type": "run_end", "ts": run["ended_ts"], "status": run["status"]}))
    run_id = None
    for start in range(0, max(len(events), 1), _CHUNK):
        chunk = events[start : start + _CHUNK]
        batch = PreparedBatch(user_id, source, run_ref, list(enumerate(chunk)), [])
        stored = store_batch(repo, batch, now)
        run_id = stored.run_id
        result.accepted += stored.accepted
        result.duplicates += stored.duplicates
        result.rejected += [f"{ref[1]}: {r.event_id}: {r.error}" for r in stored.rejected]
    assert run_id is not None
    return run_id


def _store_dead_letters(
    repo: IngestRepository,
    user_id: int,
    journal: ParsedJournal,
    now: dt.datetime,
    result: ImportResult,
) -> None:
    stamp = repo.dialect.timestamp(now)
    rows = []
    for item in journal.dead_letters:
        known = repo.connection.exec_driver_sql(
            repo.dialect.q(
                "SELECT 1 FROM rejected_event WHERE user_id = ? AND source = ? AND raw = ?"
                " AND error = ? AND batch_index = ?"
            ),
            (user_id, item["source"], item["raw"], item["error"], item["batch_index"]),
        ).first()
        if known is not None:  # imported before
            continue
        found = (
            repo.find_run(user_id, item["source"], item["run_key"])
            if item.get("run_key") is not None
            else None
        )
        received = (
            repo.dialect.timestamp(dt.datetime.fromisoformat(item["received_at"]))
            if item.get("received_at")
            else stamp
        )
        rows.append((user_id, found[0] if found else None, item["source"], item["batch_index"],
                     item.get("event_id"), item.get("event_type"), item["raw"], item["error"],
                     received))  # fmt: skip
    repo.insert_rejected(rows)
    result.dead_letters += len(rows)
