"""Typed dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.api.context import AppContext


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """A read session (deferred transaction)."""
    with context.db.session() as session:
        yield session


def get_write_session(context: ContextDep) -> Iterator[Session]:
    """A write session: `BEGIN IMMEDIATE` on SQLite, committed before the response is sent."""
    with context.db.session(write=True) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]
