from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import available_timezones

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, field_validator

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.auth import service
from backend.auth.deps import AdminUser, CanRead, CurrentUser
from backend.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    Token,
    UserCreate,
    UserRead,
    UserUpdate,
)
from backend.runs.service import rederive
from backend.stream.broker import credentials_changed

router = APIRouter(prefix="/api/auth", tags=["auth"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"])


class MeUpdate(BaseModel):
    timezone: str | None = None
    regime_method: Literal["rules", "gmm"] | None = Field(
        default=None, description="how trades are tagged with regimes (docs/regimes.md)"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"must be an IANA time zone such as 'Europe/Berlin', got {value!r}")
        return value


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, operation_id="register",
    responses={403: {}, 409: {}, 429: {}},
)  # fmt: skip
def register(data: UserCreate, request: Request, context: ContextDep) -> UserRead:
    """Create a user; the first user of an empty database becomes ADMIN (REGISTRATION)."""
    return UserRead.model_validate(service.create_user(context, data, client_address(request)))


@router.post("/login", operation_id="login", responses={401: {}, 429: {}})
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    context: ContextDep,
    session: SessionDep,
) -> Token:
    """OAuth2 password flow: form fields `username` and `password` give a bearer token."""
    return service.login(context, session, form.username, form.password, client_address(request))


def client_address(request: Request) -> str:
    """The peer's address (run_server turns proxy headers off: a client cannot choose it)."""
    return request.client.host if request.client else "unknown"


@router.get("/me", operation_id="get_me")
def me(principal: CanRead) -> UserRead:
    """The caller's user."""
    return UserRead.model_validate(principal.user)


@router.patch("/me", operation_id="update_me")
def update_me(
    data: MeUpdate, user: CurrentUser, context: ContextDep, session: WriteSessionDep
) -> UserRead:
    """Change the caller's settings: time zone (breakdowns), regime method (re-tags trades)."""
    updated = service.update_me(session, user, data.timezone, data.regime_method)
    read = UserRead.model_validate(updated)
    if data.regime_method is not None and data.regime_method != user.regime_method:
        rederive(session, user.id)
        session.commit()
        context.ingest.derivations.notify()
    return read


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, operation_id="create_api_key")
def create_api_key(
    data: ApiKeyCreate, user: CurrentUser, session: WriteSessionDep
) -> ApiKeyCreated:
    """Create an API key for an exporter; the secret is in this response only."""
    return service.create_api_key(session, user, data)


@router.get("/api-keys", operation_id="list_api_keys")
def list_api_keys(user: CurrentUser, session: SessionDep) -> list[ApiKeyRead]:
    """The caller's API keys, without their secrets."""
    return [ApiKeyRead.model_validate(key) for key in service.list_api_keys(session, user)]


@router.delete(
    "/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="revoke_api_key"
)
def revoke_api_key(
    key_id: int,
    user: CurrentUser,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> None:
    """Revoke an API key; it stops working at once, and streams opened with it are closed."""
    service.revoke_api_key(session, user, key_id)
    tasks.add_task(context.broker.publish, user.id, credentials_changed())  # after the commit


@admin_router.get("/users", operation_id="list_users")
def list_users(_admin: AdminUser, session: SessionDep) -> list[UserRead]:
    """Every user (ADMIN only)."""
    return [UserRead.model_validate(user) for user in service.list_users(session)]


@admin_router.patch("/users/{user_id}", operation_id="update_user")
def update_user(
    user_id: int,
    data: UserUpdate,
    admin: AdminUser,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> UserRead:
    """Change a user's role or deactivate it (ADMIN only); a deactivated user's streams close."""
    updated = UserRead.model_validate(service.update_user(session, admin, user_id, data))
    tasks.add_task(context.broker.publish, user_id, credentials_changed())  # after the commit
    return updated
