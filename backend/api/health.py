from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend import __version__
from backend.api.deps import ContextDep
from backend.db.migrate import current_revision, head_revision

router = APIRouter(prefix="/api", tags=["health"])


class HealthRead(BaseModel):
    status: str
    database: str
    schema_version: str | None
    schema_head: str
    app_version: str


@router.get("/health", operation_id="health", responses={503: {"model": HealthRead}})
def health(context: ContextDep, response: Response) -> HealthRead:
    """Is the database reachable and its schema current? No authentication needed."""
    head = head_revision()
    try:
        with context.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(context.db.engine)
        database = "ok"
    except SQLAlchemyError as exc:
        revision, database = None, f"unreachable: {type(exc).__name__}"
    healthy = database == "ok" and revision == head
    body = HealthRead(
        status="ok" if healthy else "degraded",
        database=database,
        schema_version=revision,
        schema_head=head,
        app_version=__version__,
    )
    if not healthy:
        response.status_code = 503
    return body
