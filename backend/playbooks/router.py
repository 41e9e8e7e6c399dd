"""Playbooks with their rules, mistakes, and a trade's journal (docs/journal.md)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.attachments.service import sweep as sweep_attachments
from backend.auth.deps import CanRead, CanWriteJournal
from backend.db.base import utcnow
from backend.playbooks import analytics, service
from backend.playbooks.events import journal_changed
from backend.playbooks.schemas import (
    MistakeRead,
    MistakeWrite,
    PlaybookAnalytics,
    PlaybookRead,
    PlaybookUpdate,
    PlaybookWrite,
    TradeJournalRead,
    TradeJournalWrite,
)

router = APIRouter(prefix="/api", tags=["journal"])


@router.get("/playbooks", operation_id="list_playbooks")
def list_playbooks(principal: CanRead, session: SessionDep) -> list[PlaybookRead]:
    """The caller's playbooks, by name, with their rules, trade counts and adherence."""
    return service.list_playbooks(session, principal.user_id)


@router.post("/playbooks", operation_id="create_playbook", status_code=201)
def create_playbook(
    data: PlaybookWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> PlaybookRead:
    """A new playbook (409 for a name or strategy another playbook of the caller has)."""
    playbook = service.create_playbook(session, principal.user_id, data)
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("playbook", playbook.id)
    )
    return playbook


@router.get("/playbooks/{playbook_id}", operation_id="get_playbook")
def get_playbook(playbook_id: int, principal: CanRead, session: SessionDep) -> PlaybookRead:
    """One playbook."""
    return service.get_playbook(session, principal.user_id, playbook_id)


@router.patch("/playbooks/{playbook_id}", operation_id="update_playbook")
def update_playbook(
    playbook_id: int,
    data: PlaybookUpdate,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> PlaybookRead:
    """Change a playbook; `rules` replaces the checklist (rules with an id keep their ticks)."""
    playbook = service.update_playbook(session, principal.user_id, playbook_id, data)
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("playbook", playbook_id)
    )
    return playbook


@router.delete("/playbooks/{playbook_id}", operation_id="delete_playbook", status_code=204)
def delete_playbook(
    playbook_id: int,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> Response:
    """Delete a playbook; its trades become unassigned, its attachments are removed."""
    service.delete_playbook(session, principal.user_id, playbook_id)
    session.commit()  # its attachments' rows went with it (CASCADE): now their files
    sweep_attachments(context.db, context.settings.data_dir, [principal.user_id])
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("playbook", playbook_id)
    )
    return Response(status_code=204)


@router.get("/playbooks/{playbook_id}/analytics", operation_id="get_playbook_analytics")
def get_playbook_analytics(
    playbook_id: int, principal: CanRead, session: SessionDep
) -> PlaybookAnalytics:
    """Every run metric on the playbook's closed trades; per rule, followed against broken."""
    return analytics.playbook_analytics(session, principal.user_id, playbook_id)


@router.get("/mistakes", operation_id="list_mistakes")
def list_mistakes(principal: CanRead, session: SessionDep) -> list[MistakeRead]:
    """The caller's mistake tags, by name, with how many trades carry each."""
    return service.list_mistakes(session, principal.user_id)


@router.post("/mistakes", operation_id="create_mistake", status_code=201)
def create_mistake(
    data: MistakeWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> MistakeRead:
    """A new mistake tag (409 for a name the caller has already)."""
    mistake = service.create_mistake(session, principal.user_id, data)
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("mistake", mistake.id)
    )
    return mistake


@router.patch("/mistakes/{mistake_id}", operation_id="update_mistake")
def update_mistake(
    mistake_id: int,
    data: MistakeWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> MistakeRead:
    """Rename a mistake tag."""
    mistake = service.update_mistake(session, principal.user_id, mistake_id, data)
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("mistake", mistake_id)
    )
    return mistake


@router.delete("/mistakes/{mistake_id}", operation_id="delete_mistake", status_code=204)
def delete_mistake(
    mistake_id: int,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> Response:
    """Delete a mistake tag; the trades tagged with it lose the tag."""
    service.delete_mistake(session, principal.user_id, mistake_id)
    tasks.add_task(
        context.broker.publish, principal.user_id, journal_changed("mistake", mistake_id)
    )
    return Response(status_code=204)


@router.put("/trades/{trade_id}/journal", operation_id="update_trade_journal")
def update_trade_journal(
    trade_id: int,
    data: TradeJournalWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> TradeJournalRead:
    """Assign a playbook, tick its rules, tag mistakes, mark reviewed; survives rebuilds."""
    journal = service.update_trade_journal(session, principal.user_id, trade_id, data, utcnow())
    tasks.add_task(context.broker.publish, principal.user_id, journal_changed("trade", trade_id))
    return journal
