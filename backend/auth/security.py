"""Password hashing, access tokens and API key secrets. Pure: no database, no web framework."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from jose import JWTError, jwt
from passlib.context import CryptContext

ALGORITHM = "HS256"
API_KEY_PREFIX = "fb_"
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (and current bcrypt refuses) anything longer


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired, or signed another way."""


@dataclass(frozen=True)
class PasswordHasher:
    """bcrypt through passlib's API; `rounds` is lowered only by tests."""

    rounds: int = 12

    def __post_init__(self) -> None:
        context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=self.rounds)
        object.__setattr__(self, "_context", context)
        # Verified against when a username is unknown, so both paths cost the same time.
        object.__setattr__(self, "_dummy_hash", context.hash(secrets.token_urlsafe(16)))

    def hash(self, password: str) -> str:
        return str(self._context.hash(password))  # type: ignore[attr-defined]

    def verify(self, password: str, password_hash: str | None) -> bool:
        secret = password.encode()
        if len(secret) > MAX_PASSWORD_BYTES:  # no stored password is this long (bcrypt refuses)
            self._context.verify(secret[:MAX_PASSWORD_BYTES], self._dummy_hash)  # type: ignore[attr-defined]
            return False
        if password_hash is None:
            self._context.verify(password, self._dummy_hash)  # type: ignore[attr-defined]
            return False
        return bool(self._context.verify(password, password_hash))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TokenCodec:
    """Signs and checks HS256 access tokens whose subject is a user id."""

    key: str
    lifetime: dt.timedelta

    def encode(self, user_id: int, *, now: dt.datetime | None = None) -> str:
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "sub": str(user_id),
            "iat": issued,
            "exp": issued + self.lifetime,
            "typ": "access",
        }
        return str(jwt.encode(claims, self.key, algorithm=ALGORITHM))

    def decode(self, token: str) -> int:
        """The user id in a valid token; raises InvalidToken otherwise."""
        return self.verify(token).user_id

    def verify(self, token: str) -> AccessClaims:
        """The user id and expiry of a valid token; raises InvalidToken otherwise."""
        try:
            claims = jwt.decode(
                token, self.key, algorithms=[ALGORITHM], options={"require_exp": True}
            )
        except JWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject, expiry = claims.get("sub"), claims.get("exp")
        if not isinstance(subject, str) or not (subject.isascii() and subject.isdigit()):
            raise InvalidToken("not an access token")
        if claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        if not isinstance(expiry, int | float):
            raise InvalidToken(f"exp must be a number, got {expiry!r}")
        return AccessClaims(int(subject), dt.datetime.fromtimestamp(expiry, dt.UTC))


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    expires_at: dt.datetime


def new_api_key() -> tuple[str, str]:
    """A fresh API key and its public prefix (the first characters, shown in lists)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:10]


def hash_api_key(key: str) -> str:
    """SHA-256 is enough for 256-bit random secrets, and cheap enough for every request."""
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)
