from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.auth.scopes import DEFAULT_SCOPES, DESCRIPTIONS, Scope, parse_scopes
from backend.auth.security import MAX_PASSWORD_BYTES
from backend.db.models import Role

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MAX_KEY_DAYS = 3650
_VALID = ", ".join(scope.value for scope in Scope)


class UserCreate(BaseModel):
    username: str = Field(examples=["alice"])
    password: str = Field(examples=["correct horse battery"])

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME_PATTERN.fullmatch(value):
            raise ValueError(
                f"must be 3-64 characters of letters, digits and _ . @ -, got {value[:80]!r}"
            )
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        size = len(value.encode())
        if len(value) < 8:
            raise ValueError(f"must be at least 8 characters, got {len(value)}")
        if size > MAX_PASSWORD_BYTES:
            raise ValueError(f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8, got {size}")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    is_active: bool
    timezone: str
    regime_method: str
    created_at: dt.datetime


class UserUpdate(BaseModel):
    """What an admin may change about a user."""

    role: Role | None = None
    is_active: bool | None = None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class ApiKeyCreate(BaseModel):
    """A new key: its name, what it may do (default: ingest only) and when it expires."""

    name: str = Field(min_length=1, max_length=100, examples=["quantower-desk-1"])
    scopes: list[Scope] = Field(
        default_factory=lambda: list(DEFAULT_SCOPES),
        description="what the key may do: "
        + "; ".join(f"`{scope}`: {text}" for scope, text in DESCRIPTIONS.items()),
        examples=[["ingest"]],
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="when the key stops working (ISO-8601 with offset)"
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=MAX_KEY_DAYS, description="or: days from now until it stops working"
    )

    @field_validator("scopes", mode="before")
    @classmethod
    def _known_scopes(cls, value: object) -> object:
        if not isinstance(value, list):
            return value  # the list type's own error says so
        if not value:
            raise ValueError(f"name at least one scope; valid scopes: {_VALID}")
        return parse_scopes(value)

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: dt.datetime | None) -> dt.datetime | None:
        now = dt.datetime.now(dt.UTC)
        if value is not None and value <= now:
            raise ValueError(f"must be in the future, got {value.isoformat()} at {now.isoformat()}")
        if value is not None and value > now + dt.timedelta(days=MAX_KEY_DAYS):
            raise ValueError(f"must be within {MAX_KEY_DAYS} days, got {value.isoformat()}")
        return value

    @model_validator(mode="after")
    def _one_expiry(self) -> ApiKeyCreate:
        if self.expires_at is not None and self.expires_in_days is not None:
            raise ValueError("give expires_at or expires_in_days, not both")
        return self

    def expiry(self, now: dt.datetime) -> dt.datetime | None:
        """When the key expires, in UTC (None: never)."""
        if self.expires_in_days is not None:
            return now + dt.timedelta(days=self.expires_in_days)
        return None if self.expires_at is None else self.expires_at.astimezone(dt.UTC)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None = Field(description="kept to the minute; null: never used")
    revoked_at: dt.datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _stored(cls, value: list[str]) -> list[Scope]:
        known = {scope.value for scope in Scope}
        return [Scope(v) for v in value if v in known]


class ApiKeyCreated(BaseModel):
    """The only response that holds the secret: copy it now, it is not shown again."""

    id: int
    name: str
    key: str
    prefix: str
    scopes: list[Scope]
    expires_at: dt.datetime | None
