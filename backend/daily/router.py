"""The daily journal: a plan and a review per day in the caller's zone (docs/journal.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.attachments import service as attachments
from backend.auth.deps import CanRead, CanWriteJournal
from backend.daily import service
from backend.daily.schemas import (
    JournalDayRead,
    JournalDaySummary,
    JournalDayWrite,
    JournalTemplateRead,
    JournalTemplateWrite,
)
from backend.errors import NotFound
from backend.playbooks.events import journal_changed

router = APIRouter(prefix="/api/journal", tags=["journal"])

DayQuery = Annotated[str, Query(description="YYYY-MM-DD in the caller's time zone")]


@router.get("/days", operation_id="list_journal_days")
def list_journal_days(
    principal: CanRead,
    session: SessionDep,
    first: Annotated[str, Query(alias="from", description="YYYY-MM-DD, inclusive")],
    last: Annotated[str, Query(alias="to", description="YYYY-MM-DD, inclusive")],
) -> list[JournalDaySummary]:
    """Days from `from` to `to` that have an entry or trades, with their ratings and P&L."""
    user = principal.user
    return service.list_days(session, user.id, user.timezone, first, last)


@router.get("/template", operation_id="get_journal_template")
def get_journal_template(principal: CanRead, session: SessionDep) -> JournalTemplateRead:
    """The text a new day's plan starts from."""
    return service.get_template(session, principal.user_id)


@router.put("/template", operation_id="update_journal_template")
def update_journal_template(
    data: JournalTemplateWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> JournalTemplateRead:
    """Set the text a new day's plan starts from."""
    template = service.update_template(session, principal.user_id, data)
    tasks.add_task(context.broker.publish, principal.user_id, journal_changed("day", "template"))
    return template


@router.get("/days/{day}", operation_id="get_journal_day")
def get_journal_day(day: str, principal: CanRead, session: SessionDep) -> JournalDayRead:
    """A day's entry (or the template when none is written) with the day's trades and P&L."""
    user = principal.user
    return service.get_day(session, user.id, user.timezone, day)


@router.put("/days/{day}", operation_id="update_journal_day")
def update_journal_day(
    day: str,
    data: JournalDayWrite,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> JournalDayRead:
    """Write a day's plan, review, mood or discipline."""
    user = principal.user
    entry = service.update_day(session, user.id, user.timezone, day, data)
    tasks.add_task(context.broker.publish, user.id, journal_changed("day", entry.day))
    return entry


@router.delete("/days/{day}", operation_id="delete_journal_day", status_code=204)
def delete_journal_day(
    day: str,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> Response:
    """Delete a day's entry and its attachments (404 when the day has neither)."""
    had_entry = service.delete_day(session, principal.user_id, day)
    iso_day = service.day_of("day", day).isoformat()
    if not (attachments.delete_day(session, principal.user_id, iso_day) or had_entry):
        raise NotFound(f"no journal entry or attachment for {iso_day}")
    session.commit()
    attachments.sweep(context.db, context.settings.data_dir, [principal.user_id])
    tasks.add_task(context.broker.publish, principal.user_id, journal_changed("day", day))
    return Response(status_code=204)
