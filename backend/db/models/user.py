from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, created_at_column, id_column


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    USER = "USER"


class User(Base):
    """A person with a journal. The first user of an empty database is an ADMIN."""

    __tablename__ = "user"

    id: Mapped[int] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, name="role", length=16),
        nullable=False,
        default=Role.USER,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    regime_method: Mapped[str] = mapped_column(
        String(16), nullable=False, default="rules", server_default="rules"
    )
    created_at: Mapped[dt.datetime] = created_at_column()
