"""Registration, login, API keys and user administration."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.api.context import AppContext
from backend.auth import repository
from backend.auth.schemas import ApiKeyCreate, ApiKeyCreated, Token, UserCreate, UserUpdate
from backend.auth.security import hash_api_key, new_api_key
from backend.auth.throttle import USERNAME_KEY_CHARS
from backend.db.models import ApiKey, Role, User
from backend.errors import Conflict, Forbidden, NotAuthenticated, NotFound, TooManyRequests

log = logging.getLogger(__name__)


def create_user(context: AppContext, data: UserCreate, address: str) -> User:
    """Create a user; the first one of an empty database becomes ADMIN.

    The password is hashed before the write transaction opens: bcrypt takes a quarter of
    a second, and on SQLite a transaction holds the one write lock every tenant's ingest
    needs. Deciding who is first and inserting happen in one short transaction, under a
    lock PostgreSQL holds until it ends, so two simultaneous first sign-ups make one ADMIN.
    """
    mode = context.settings.registration
    if mode == "closed":
        raise Forbidden("registration is closed on this server (REGISTRATION=closed)")
    wait = context.registrations.take(address)
    if wait:
        raise TooManyRequests(
            f"too many registrations from this address; try again in {wait} s", retry_after=wait
        )
    with context.db.session() as session:
        if repository.get_user_by_username(session, data.username) is not None:
            raise Conflict(f"username: {data.username!r} is taken")
    password_hash = context.hasher.hash(data.password)
    try:
        with context.db.session(write=True) as session:
            repository.lock_registration(session)
            first = not repository.any_user_exists(session)
            if mode == "first-user-only" and not first:
                raise Forbidden(
                    "registration is closed: this server takes only its first user "
                    "(REGISTRATION=first-user-only)"
                )
            role = Role.ADMIN if first else Role.USER
            user = User(username=data.username, password_hash=password_hash, role=role)
            session.add(user)
            session.flush()
            session.expunge(user)
    except IntegrityError as exc:
        raise Conflict(f"username: {data.username!r} is taken") from exc
    log.info("user registered", extra={"user_id": user.id, "role": role.value})
    return user


def login(
    context: AppContext, session: Session, username: str, password: str, address: str
) -> Token:
    """Exchange a username and password for an access token; repeated failures back off."""
    throttle = context.login_throttle
    wait = throttle.retry_after(username, address)
    if wait:
        raise TooManyRequests(
            f"too many failed logins; try again in {wait} s", retry_after=wait
        )
    user = (
        repository.get_user_by_username(session, username)
        if len(username) <= USERNAME_KEY_CHARS
        else None  # no such user can exist; the same work is done as for an unknown one
    )
    if not context.hasher.verify(password, user.password_hash if user else None) or user is None:
        throttle.record_failure(username, address)
        raise NotAuthenticated("incorrect username or password")
    if not user.is_active:
        raise NotAuthenticated("this user is deactivated")
    throttle.record_success(username, address)
    lifetime = context.tokens.lifetime
    return Token(
        access_token=context.tokens.encode(user.id), expires_in=int(lifetime.total_seconds())
    )


def update_me(
    session: Session, user: User, timezone: str | None, regime_method: str | None
) -> User:
    attached = session.merge(user)
    if timezone is not None:
        attached.timezone = timezone
    if regime_method is not None:
        attached.regime_method = regime_method
    session.flush()
    return attached


def create_api_key(session: Session, user: User, data: ApiKeyCreate) -> ApiKeyCreated:
    key, prefix = new_api_key()
    api_key = ApiKey(
        user_id=user.id,
        name=data.name,
        prefix=prefix,
        key_hash=hash_api_key(key),
        scopes=[scope.value for scope in data.scopes],
        expires_at=data.expiry(dt.datetime.now(dt.UTC)),
    )
    session.add(api_key)
    session.flush()
    return ApiKeyCreated(
        id=api_key.id, name=api_key.name, key=key, prefix=prefix,
        scopes=data.scopes, expires_at=api_key.expires_at,
    )  # fmt: skip


def list_api_keys(session: Session, user: User) -> list[ApiKey]:
    return repository.list_api_keys(session, user.id)


def revoke_api_key(session: Session, user: User, key_id: int) -> None:
    """Revoke at once; the row stays so that the key's history is kept."""
    api_key = repository.get_api_key(session, user.id, key_id)
    if api_key is None:
        raise NotFound(f"api key {key_id} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = dt.datetime.now(dt.UTC)
        session.flush()


def list_users(session: Session) -> list[User]:
    return repository.list_users(session)


def update_user(session: Session, admin: User, user_id: int, data: UserUpdate) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    loses_admin = user.role is Role.ADMIN and (data.role is Role.USER or data.is_active is False)
    if loses_admin and _active_admins(session) <= 1:
        raise Conflict("role: this is the last active ADMIN; promote another user first")
    if data.role is not None:
        user.role = data.role
    if data.is_active is not None:
        user.is_active = data.is_active
    session.flush()
    log.info(
        "user updated by admin",
        extra={"user_id": user.id, "admin_id": admin.id, "role": user.role.value},
    )
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True))
    return int(session.scalar(query) or 0)
