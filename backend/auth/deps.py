"""Who is calling: one dependency accepts an access token or an API key; scopes gate keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from backend.api.context import AppContext
from backend.api.deps import ContextDep, SessionDep
from backend.auth import repository
from backend.auth.scopes import Scope
from backend.auth.security import InvalidToken, hash_api_key, looks_like_api_key
from backend.db.models import ApiKey, Role, User
from backend.errors import Forbidden, NotAuthenticated

# How stale `last_used_at` may get before a request through the key refreshes it.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)

bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The caller: a user, and the API key it came with (None for a logged-in person).

    `scopes` are the key's (a person may do whatever its role allows); `expires_at` is
    when the credential stops working: the access token's expiry or the key's.
    """

    user: User
    api_key_id: int | None = None
    scopes: frozenset[Scope] = frozenset()
    expires_at: dt.datetime | None = None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role is Role.ADMIN

    def allows(self, scope: Scope) -> bool:
        return self.api_key_id is None or scope in self.scopes


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
        claims = context.tokens.verify(credential)
    except InvalidToken as exc:
        raise NotAuthenticated(f"invalid access token: {exc}") from exc
    user = repository.get_user(session, claims.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("invalid access token: the user does not exist or is deactivated")
    return Principal(user=user, expires_at=claims.expires_at)


def _principal_from_api_key(context: AppContext, session: Session, key: str) -> Principal:
    api_key = repository.get_api_key_by_hash(session, hash_api_key(key))
    now = dt.datetime.now(dt.UTC)
    if api_key is None or api_key.revoked_at is not None:
        raise NotAuthenticated("invalid API key: unknown or revoked")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise NotAuthenticated(
            f"invalid API key: it expired at {_iso(api_key.expires_at)}; create a new one"
        )
    user = repository.get_user(session, api_key.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("invalid API key: its user is deactivated")
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        # A short write of its own, so read requests never hold the write lock.
        with context.db.session(write=True) as writer:
            repository.touch_api_key(writer, api_key.id, now)
    return key_principal(user, api_key)


def key_principal(user: User, api_key: ApiKey) -> Principal:
    return Principal(
        user=user,
        api_key_id=api_key.id,
        scopes=stored_scopes(api_key.scopes),
        expires_at=api_key.expires_at,
    )


def stored_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """A key's stored scopes; one this version does not know grants nothing."""
    known = {scope.value for scope in Scope}
    return frozenset(Scope(value) for value in values if value in known)


def revocation_reason(
    session: Session, principal: Principal, now: dt.datetime | None = None
) -> str | None:
    """Why a principal authenticated earlier must stop now (revoked or expired key,
    deactivated user, expired token), or None while it is still good. Open streams ask."""
    now = now or dt.datetime.now(dt.UTC)
    user = repository.get_user(session, principal.user_id)
    if user is None or not user.is_active:
        return "the user was deactivated"
    if principal.api_key_id is not None:
        api_key = session.get(ApiKey, principal.api_key_id)
        if api_key is None or api_key.revoked_at is not None:
            return "the API key was revoked"
        if api_key.expires_at is not None and api_key.expires_at <= now:
            return f"the API key expired at {_iso(api_key.expires_at)}"
    if principal.expires_at is not None and principal.expires_at <= now:
        what = "the API key" if principal.api_key_id is not None else "the access token"
        return f"{what} expired at {_iso(principal.expires_at)}"
    return None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def scope_refusal(principal: Principal, scope: Scope) -> str | None:
    """What a key lacking `scope` is told (None when it may go ahead)."""
    if principal.allows(scope):
        return None
    has = ", ".join(s.value for s in Scope if s in principal.scopes) or "none"
    return (
        f"this API key lacks the '{scope.value}' scope; its scopes: {has}. "
        f"Create a key with '{scope.value}' in Settings, or log in"
    )


def _require(scope: Scope) -> Callable[[Principal], Principal]:
    def dependency(principal: CurrentPrincipal) -> Principal:
        refusal = scope_refusal(principal, scope)
        if refusal is not None:
            raise Forbidden(refusal)
        return principal

    dependency.__name__ = dependency.__qualname__ = f"require_{scope.name.lower()}"
    return dependency


# One dependency per scope, so that `Depends` caches it within a request and the route
# checks in tests/security can read which scope each route needs.
SCOPE_DEPENDENCIES: dict[Scope, Callable[[Principal], Principal]] = {
    scope: _require(scope) for scope in Scope
}


def require_scope(scope: Scope) -> Callable[[Principal], Principal]:
    """The dependency that lets a person through and an API key only with `scope` (403)."""
    return SCOPE_DEPENDENCIES[scope]


def required_scope(call: object) -> Scope | None:
    """The scope a dependency (from `require_scope`) checks, or None for any other callable."""
    return next((scope for scope, dep in SCOPE_DEPENDENCIES.items() if dep is call), None)


CanIngest = Annotated[Principal, Depends(require_scope(Scope.INGEST))]
CanRead = Annotated[Principal, Depends(require_scope(Scope.READ))]
CanWriteJournal = Annotated[Principal, Depends(require_scope(Scope.WRITE_JOURNAL))]
CanLaunchBacktests = Annotated[Principal, Depends(require_scope(Scope.BACKTESTS))]
CanTrain = Annotated[Principal, Depends(require_scope(Scope.TRAINING))]
CanExport = Annotated[Principal, Depends(require_scope(Scope.EXPORT))]


def get_interactive_user(principal: CurrentPrincipal) -> User:
    """Managing keys and users needs a person's token, whatever an API key's scopes."""
    if principal.api_key_id is not None:
        raise Forbidden(
            "API keys cannot manage keys or users, whatever their scopes; log in instead"
        )
    return principal.user


CurrentUser = Annotated[User, Depends(get_interactive_user)]


def get_admin(user: CurrentUser) -> User:
    if user.role is not Role.ADMIN:
        raise Forbidden("this needs the ADMIN role")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
