"""Every query of the imports feature."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from backend.db.models import (
    Execution,
    ImportMapping,
    Instrument,
    StatementImport,
    Strategy,
    StrategyInstance,
    StrategyRun,
    Trade,
)
from backend.imports.preview import StoredInstrument

CHUNK = 500


def get(session: Session, user_id: int, import_id: int) -> StatementImport | None:
    return session.scalar(
        select(StatementImport).where(
            StatementImport.id == import_id, StatementImport.user_id == user_id
        )
    )


def list_for(session: Session, user_id: int, limit: int) -> Sequence[StatementImport]:
    return session.scalars(
        select(StatementImport)
        .where(StatementImport.user_id == user_id)
        .order_by(StatementImport.id.desc())
        .limit(limit)
    ).all()


def stored_ids(session: Session, user_id: int, ids: Sequence[str]) -> set[str]:
    """Which of `ids` are already stored as the user's executions, under any source."""
    sources = session.scalars(
        select(StrategyRun.source).where(StrategyRun.user_id == user_id).distinct()
    ).all()
    if not sources or not ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found.update(
            session.scalars(
                select(Execution.exec_id).where(
                    Execution.user_id == user_id,
                    Execution.source.in_(sources),
                    Execution.exec_id.in_(chunk),
                )
            )
        )
    return found


def instruments(
    session: Session, user_id: int, symbols: Iterable[str]
) -> dict[str, StoredInstrument]:
    wanted = sorted(set(symbols))
    found: dict[str, StoredInstrument] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(
                Instrument.symbol, Instrument.multiplier, Instrument.tick_size, Instrument.currency
            ).where(
                Instrument.user_id == user_id, Instrument.symbol.in_(wanted[start : start + CHUNK])
            )
        )
        for symbol, multiplier, tick, currency in rows:
            found[symbol] = StoredInstrument(multiplier, tick, currency)
    return found


def run_ref(
    session: Session, user_id: int, run_id: int
) -> tuple[str, str, str, str | None, str] | None:
    """(source, key, strategy, instance, mode) of one of the user's runs."""
    row = session.execute(
        select(
            StrategyRun.source,
            StrategyRun.key,
            Strategy.name,
            StrategyInstance.name,
            StrategyRun.mode,
        )
        .join(Strategy, Strategy.id == StrategyRun.strategy_id)
        .outerjoin(StrategyInstance, StrategyInstance.id == StrategyRun.instance_id)
        .where(StrategyRun.id == run_id, StrategyRun.user_id == user_id)
    ).first()
    if row is None:
        return None
    source, key, strategy, instance, mode = row
    return source, key, strategy, instance, str(getattr(mode, "value", mode))


def trade_count(session: Session, run_id: int, positions: Iterable[tuple[str, str]]) -> int:
    keys = sorted(set(positions))
    total = 0
    for start in range(0, len(keys), CHUNK):
        total += (
            session.scalar(
                select(func.count())
                .select_from(Trade)
                .where(
                    Trade.run_id == run_id,
                    tuple_(Trade.account, Trade.symbol).in_(keys[start : start + CHUNK]),
                )
            )
            or 0
        )
    return total


def set_progress(session: Session, import_id: int, done: int, total: int) -> None:
    session.execute(
        update(StatementImport)
        .where(StatementImport.id == import_id)
        .values(progress_done=done, progress_total=total)
    )


def running(session: Session) -> Sequence[StatementImport]:
    return session.scalars(select(StatementImport).where(StatementImport.state == "running")).all()


def staged_ids(session: Session) -> set[tuple[int, int]]:
    """(user_id, id) of every import whose file is still needed (staged or running)."""
    rows = session.execute(
        select(StatementImport.user_id, StatementImport.id).where(
            StatementImport.state.in_(("staged", "running"))
        )
    )
    return {(user_id, import_id) for user_id, import_id in rows}


def mapping(session: Session, user_id: int, name: str) -> ImportMapping | None:
    return session.scalar(
        select(ImportMapping).where(ImportMapping.user_id == user_id, ImportMapping.name == name)
    )


def mappings(session: Session, user_id: int) -> Sequence[ImportMapping]:
    return session.scalars(
        select(ImportMapping).where(ImportMapping.user_id == user_id).order_by(ImportMapping.name)
    ).all()


def delete_mapping(session: Session, user_id: int, name: str) -> int:
    result = session.execute(
        delete(ImportMapping).where(ImportMapping.user_id == user_id, ImportMapping.name == name)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
