from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.auth.security import MAX_PASSWORD_BYTES
from backend.db.models import Role

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


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
    name: str = Field(min_length=1, max_length=100, examples=["quantower-desk-1"])


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(BaseModel):
    """The only response that holds the secret: copy it now, it is not shown again."""

    id: int
    name: str
    key: str
    prefix: str
