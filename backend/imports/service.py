"""Imports: stage an upload, preview it, re-read it with options or a mapping, discard it.

Confirming (running the import into the ingest path) is backend/imports/runner.py.
A staged upload is kept STAGED_HOURS; past that, or once it is done, failed or
discarded, its file is removed (`sweep`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.models import ImportMapping, StatementImport
from backend.errors import Conflict, InvalidPayload, NotFound
from backend.imports import formats, repository, storage
from backend.imports.clock import zone
from backend.imports.formats import GENERIC, Format
from backend.imports.model import FileError, Mapping, Parsed
from backend.imports.preview import (
    Fill,
    InstrumentPlan,
    plan_instruments,
    resolve,
    validate,
)
from backend.imports.schemas import (
    Duplicate,
    FormatRead,
    ImportOptions,
    ImportPreview,
    ImportStatus,
    ImportSummary,
    MappingColumns,
    MappingUpdate,
    PreviewFill,
    PreviewInstrument,
    Progress,
    RowProblem,
    SavedMapping,
    SavedMappingWrite,
)
from backend.imports.text import decode

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_FILENAME_CHARS = 200
STAGED_HOURS = 24
PREVIEW_FILLS, PREVIEW_SKIPPED, PREVIEW_DUPLICATES = 50, 100, 50
HISTORY_LIMIT = 200


def list_formats() -> list[FormatRead]:
    return [FormatRead(id=f.id, label=f.label, extensions=list(f.extensions), notes=f.notes,
                       local_times=f.local_times, default_tz=f.default_tz)
            for f in formats.FORMATS]  # fmt: skip


def clean_filename(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidPayload("filename: is required (?filename=trades.csv)")
    cleaned = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(cleaned) > MAX_FILENAME_CHARS or not cleaned or "\x00" in cleaned:
        raise InvalidPayload(f"filename: must be 1 to {MAX_FILENAME_CHARS} characters without "
                             f"NUL, got {len(cleaned)} characters")  # fmt: skip
    return cleaned


def check_tz(name: str | None) -> str | None:
    try:
        zone(name)
    except ValueError as exc:
        raise InvalidPayload(str(exc)) from None
    return name or None


def check_format(format_id: str | None) -> Format | None:
    if format_id is None or format_id == "":
        return None
    try:
        return formats.get(format_id)
    except FileError as exc:
        raise InvalidPayload(str(exc)) from None


@dataclass
class Outcome:
    """A parse of a staged file: everything the preview and the confirm need."""

    fmt: Format
    parsed: Parsed
    tz: str | None
    fills: list[Fill] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)
    instruments: list[InstrumentPlan] = field(default_factory=list)
    duplicates: list[Fill] = field(default_factory=list)
    needs_mapping: bool = False
    needs_tz: bool = False


def _mapping_of(row: StatementImport) -> Mapping | None:
    if not row.mapping:
        return None
    return Mapping(dict(row.mapping.get("columns") or {}), row.mapping.get("date_format"))


def parse(session: Session, data: bytes, row: StatementImport, *,
          account: str | None = None) -> Outcome:  # fmt: skip
    """Parse `data` as `row` says (format, zone, mapping), check every event against the
    ingest contract, and look up what is already stored."""
    fmt = formats.get(row.format)
    mapping = _mapping_of(row)
    try:
        parsed = fmt.parse(data, mapping)
    except FileError as exc:
        raise InvalidPayload(f"{row.filename} is not a readable {fmt.label} file: {exc}") from None
    tz = row.tz or fmt.default_tz
    outcome = Outcome(fmt, parsed, tz)
    outcome.skipped = [RowProblem(row=s.row, reason=s.reason) for s in parsed.skipped]
    if fmt is GENERIC and (mapping is None or mapping.missing()):
        outcome.needs_mapping = True
        return outcome
    needs_zone = fmt.local_times and tz is None and any(
        f.when.tzinfo is None for f in parsed.fills)
    if needs_zone:
        outcome.needs_tz = True
        return outcome
    fills, refused = resolve(parsed, fmt.id, zone(tz))
    events, kept, invalid = validate(fills, account)
    outcome.skipped += [RowProblem(row=s.row, reason=s.reason) for s in refused + invalid]
    outcome.skipped.sort(key=lambda problem: problem.row)
    stored = repository.stored_ids(session, row.user_id, [fill.execution_id for fill in kept])
    seen: set[str] = set()
    for fill, event in zip(kept, events, strict=True):
        if fill.execution_id in stored or fill.execution_id in seen:
            outcome.duplicates.append(fill)
            continue
        seen.add(fill.execution_id)
        outcome.fills.append(fill)
        outcome.events.append(event)
    symbols = {fill.symbol for fill in kept}
    outcome.instruments = plan_instruments(
        parsed.instruments, symbols, repository.instruments(session, row.user_id, symbols))
    return outcome


def preview_of(row: StatementImport, outcome: Outcome) -> ImportPreview:
    parsed = outcome.parsed
    warnings = list(parsed.warnings)
    if outcome.needs_tz:
        warnings.append(f"{outcome.fmt.label} writes wall-clock times without a zone: say "
                        "which (tz, e.g. America/New_York) to read them")  # fmt: skip
    if outcome.needs_mapping:
        warnings.append("pick the columns of time, symbol, qty and price (PUT .../mapping)")
    mapping = _mapping_of(row)
    return ImportPreview(
        id=row.id, state="staged", filename=row.filename, size_bytes=row.size_bytes,
        format=outcome.fmt.id, format_label=outcome.fmt.label, detected=row.detected,
        tz=outcome.tz, rows_total=parsed.rows_total, fills_total=len(outcome.fills),
        fills=[PreviewFill(row=f.row, execution_id=f.execution_id, time=f.time,
                           symbol=f.symbol, side=f.side, qty=f.qty, price=f.price,
                           commission=f.commission, account=f.account)
               for f in outcome.fills[:PREVIEW_FILLS]],
        instruments=[PreviewInstrument(symbol=p.symbol, action=p.action,
                                       multiplier=p.multiplier, tick_size=p.tick_size,
                                       currency=p.currency, warning=p.warning)
                     for p in outcome.instruments],
        skipped_total=len(outcome.skipped), skipped=outcome.skipped[:PREVIEW_SKIPPED],
        duplicates_total=len(outcome.duplicates),
        duplicates=[Duplicate(row=f.row, execution_id=f.execution_id)
                    for f in outcome.duplicates[:PREVIEW_DUPLICATES]],
        warnings=warnings + [p.warning for p in outcome.instruments if p.warning],
        columns=parsed.columns,
        mapping=MappingColumns.model_validate(mapping.columns) if mapping and not
        mapping.missing() else None,
        needs_mapping=outcome.needs_mapping, needs_tz=outcome.needs_tz,
    )  # fmt: skip


def status_of(row: StatementImport) -> ImportStatus:
    fmt = formats.BY_ID.get(row.format, GENERIC)
    return ImportStatus(
        id=row.id, state=row.state, filename=row.filename,
        size_bytes=row.size_bytes, format=row.format, format_label=fmt.label,
        created_at=row.created_at, finished_at=row.finished_at, run_id=row.run_id,
        progress=Progress(done=row.progress_done, total=row.progress_total),
        summary=ImportSummary.model_validate(row.summary) if row.summary else None,
        error=row.error,
    )  # fmt: skip


def owned(session: Session, user_id: int, import_id: int) -> StatementImport:
    row = repository.get(session, user_id, import_id)
    if row is None:
        raise NotFound(f"import {import_id} not found")
    return row


def staged(session: Session, user_id: int, import_id: int) -> StatementImport:
    row = owned(session, user_id, import_id)
    if row.state != "staged":
        raise Conflict(f"import {import_id} is {row.state}, not staged: it can no longer be "
                       "previewed or changed")  # fmt: skip
    return row


def read_file(data_dir: Path, row: StatementImport) -> bytes:
    path = storage.path_of(data_dir, row.user_id, row.id)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise Conflict(f"import {row.id}: its upload is gone (expired or discarded); "
                       "upload the file again") from None  # fmt: skip


def stage(db: Database, data_dir: Path, user_id: int, filename: str, data: bytes,
          format_id: str | None, tz: str | None) -> ImportPreview:  # fmt: skip
    """Store the upload, detect or check its format, and preview it. A file that cannot be
    read as its format is refused (422) and nothing is kept."""
    chosen = check_format(format_id)
    tz = check_tz(tz)
    if not data:
        raise InvalidPayload("the body is empty: send the file's bytes")
    detected = chosen is None
    fmt = chosen or formats.detect(decode(data[:65536])) or GENERIC
    row = StatementImport(
        user_id=user_id, filename=filename, size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(), format=fmt.id,
        detected=detected and fmt is not GENERIC, tz=tz, state="staged",
    )  # fmt: skip
    with db.session() as session:
        outcome = parse(session, data, row)  # 422 here keeps nothing
    with db.session(write=True) as session:
        session.add(row)
        session.flush()
        storage.write(data_dir, user_id, row.id, data)
        try:
            session.commit()
        except BaseException:
            storage.remove(data_dir, user_id, row.id)
            raise
        session.refresh(row)
    return preview_of(row, outcome)


def preview(db: Database, data_dir: Path, user_id: int, import_id: int) -> ImportPreview:
    with db.session() as session:
        row = staged(session, user_id, import_id)
        return preview_of(row, parse(session, read_file(data_dir, row), row))


def _reparse(db: Database, data_dir: Path, user_id: int, import_id: int,
             change: dict[str, Any]) -> ImportPreview:  # fmt: skip
    """Apply `change` to the record if the file parses with it (422 otherwise)."""
    with db.session() as session:
        row = staged(session, user_id, import_id)
        data = read_file(data_dir, row)
        for name, value in change.items():
            setattr(row, name, value)
        outcome = parse(session, data, row)
        result = preview_of(row, outcome)
        session.rollback()
    with db.session(write=True) as session:
        row = staged(session, user_id, import_id)
        for name, value in change.items():
            setattr(row, name, value)
    return result


def set_options(db: Database, data_dir: Path, user_id: int, import_id: int,
                options: ImportOptions) -> ImportPreview:  # fmt: skip
    change: dict[str, Any] = {}
    if options.format is not None:
        fmt = check_format(options.format)
        assert fmt is not None
        change.update(format=fmt.id, detected=False)
    if "tz" in options.model_fields_set:
        change["tz"] = check_tz(options.tz)
    return _reparse(db, data_dir, user_id, import_id, change)


def set_mapping(db: Database, data_dir: Path, user_id: int, import_id: int,
                body: MappingUpdate) -> ImportPreview:  # fmt: skip
    columns = body.mapping.model_dump(exclude_none=True)
    change: dict[str, Any] = {
        "format": GENERIC.id, "detected": False,
        "mapping": {"columns": columns, "date_format": body.date_format},
    }  # fmt: skip
    if "tz" in body.model_fields_set:
        change["tz"] = check_tz(body.tz)
    result = _reparse(db, data_dir, user_id, import_id, change)
    if body.save_as is not None:
        save_mapping(db, user_id, body.save_as, SavedMappingWrite(
            mapping=body.mapping, tz=change.get("tz"), date_format=body.date_format))  # fmt: skip
    return result


def get(db: Database, user_id: int, import_id: int) -> ImportStatus:
    with db.session() as session:
        return status_of(owned(session, user_id, import_id))


def history(db: Database, user_id: int) -> list[ImportStatus]:
    with db.session() as session:
        return [status_of(row) for row in repository.list_for(session, user_id, HISTORY_LIMIT)]


def discard(db: Database, data_dir: Path, user_id: int, import_id: int) -> None:
    """Discard a staged upload (its file goes), or forget a finished import (its fills stay)."""
    with db.session(write=True) as session:
        row = owned(session, user_id, import_id)
        if row.state == "running":
            raise Conflict(f"import {import_id} is running; wait for it to finish")
        session.delete(row)
    storage.remove(data_dir, user_id, import_id)


def sweep(db: Database, data_dir: Path, now: dt.datetime | None = None) -> None:
    """At start: imports a stopped server left running failed; expired staged uploads and
    files without a staged record removed."""
    now = now or dt.datetime.now(dt.UTC)
    with db.session(write=True) as session:
        for row in repository.running(session):
            row.state, row.finished_at = "failed", now
            row.error = "the server stopped during the import; upload the file again"
        expired = now - dt.timedelta(hours=STAGED_HOURS)
        for user_id, import_id in repository.staged_ids(session):
            found = repository.get(session, user_id, import_id)
            if found is not None and found.state == "staged" and found.created_at < expired:
                session.delete(found)
    with db.session() as session:
        keep = repository.staged_ids(session)
    for user_id, import_id in storage.stored(data_dir) - keep:
        storage.remove(data_dir, user_id, import_id)


def _saved(row: ImportMapping) -> SavedMapping:
    return SavedMapping(name=row.name, mapping=MappingColumns.model_validate(row.columns),
                        tz=row.tz, date_format=row.date_format)  # fmt: skip


def list_mappings(db: Database, user_id: int) -> list[SavedMapping]:
    with db.session() as session:
        return [_saved(row) for row in repository.mappings(session, user_id)]


def get_mapping(db: Database, user_id: int, name: str) -> SavedMapping:
    with db.session() as session:
        row = repository.mapping(session, user_id, name)
        if row is None:
            raise NotFound(f"mapping {name!r} not found")
        return _saved(row)


def save_mapping(db: Database, user_id: int, name: str, body: SavedMappingWrite) -> SavedMapping:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidPayload(f"name: must be 1 to 100 characters, got {len(name)}")
    tz = check_tz(body.tz)
    with db.session(write=True) as session:
        row = repository.mapping(session, user_id, name)
        if row is None:
            row = ImportMapping(user_id=user_id, name=name)
            session.add(row)
        row.columns = body.mapping.model_dump(exclude_none=True)
        row.tz, row.date_format = tz, body.date_format
        row.updated_at = dt.datetime.now(dt.UTC)
        session.flush()
        return _saved(row)


def delete_mapping(db: Database, user_id: int, name: str) -> None:
    with db.session(write=True) as session:
        if repository.delete_mapping(session, user_id, name) == 0:
            raise NotFound(f"mapping {name!r} not found")
