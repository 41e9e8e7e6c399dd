"""Who is calling: one dependency accepts an access token or an API key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from backend.api.context import AppContext
from backend.api.deps import ContextDep, SessionDep
from backend.auth import repository
from backend.auth.security import InvalidToken, hash_api_key, looks_like_api_key
from backend.db.models import Role, User
from backend.errors import Forbidden, NotAuthenticated

# How stale `last_used_at` may get before a request through the key refreshes it.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)

bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The caller: a user, and the API key it came with (None for a logged-in person)."""

    user: User
    api_key_id: int | None = None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role is Role.ADMIN


def get_principal(
    context: ContextDep, session: SessionDep, credential: Annotated[str | None, Depends(bearer)]
) -> Principal:
    return authenticate(context, session, credential)


def authenticate(context: AppContext, session: Session, credential: str | None) -> Principal:
    """The principal behind an access token or an API key; NotAuthenticated otherwise."""
    if not credential:
        raise NotAuthenticated("missing credentials: send 'Authorization: Bearer <token or key>'")
    if looks_like_api_key(credential):
        return _principal_from_api_key(context, session, credential)
    try:
        user_id = context.tokens.decode(credential)
    except InvalidToken as exc:
        raise NotAuthenticated(f"invalid access token: {exc}") from exc
    user = repository.get_user(session, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("invalid access token: the user does not exist or is deactivated")
    return Principal(user=user)


def _principal_from_api_key(context: AppContext, session: Session, key: str) -> Principal:
    api_key = repository.get_api_key_by_hash(session, hash_api_key(key))
    if api_key is None or api_key.revoked_at is not None:
        raise NotAuthenticated("invalid API key: unknown or revoked")
    user = repository.get_user(session, api_key.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("invalid API key: its user is deactivated")
    now = dt.datetime.now(dt.UTC)
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        # A short write of its own, so read requests never hold the write lock.
        with context.db.session(write=True) as writer:
            repository.touch_api_key(writer, api_key.id, now)
    return Principal(user=user, api_key_id=api_key.id)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_interactive_user(principal: CurrentPrincipal) -> User:
    """Managing keys and users needs a person's token: an API key only ingests and reads."""
    if principal.api_key_id is not None:
        raise Forbidden("API keys can ingest and read but not manage keys or users; log in instead")
    return principal.user


CurrentUser = Annotated[User, Depends(get_interactive_user)]


def get_admin(user: CurrentUser) -> User:
    if user.role is not Role.ADMIN:
        raise Forbidden("this needs the ADMIN role")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
