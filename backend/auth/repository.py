"""Every query of the auth feature."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select, text, update
from sqlalchemy.orm import Session

from backend.db.models import ApiKey, User


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


REGISTRATION_LOCK = 0x46424B5245  # "FBKRE": an arbitrary advisory lock id of Fillbook's


def lock_registration(session: Session) -> None:
    """Serialise registrations to the end of the transaction. PostgreSQL: an advisory lock
    (two first sign-ups would both see no users); SQLite: the write transaction's own lock
    (backend/db/write_lock.py) already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": REGISTRATION_LOCK})


def any_user_exists(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(User.id.is_not(None)))))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def get_api_key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).one_or_none()


def get_api_key(session: Session, user_id: int, key_id: int) -> ApiKey | None:
    return session.scalars(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
    ).one_or_none()


def list_api_keys(session: Session, user_id: int) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id))
    )


def touch_api_key(session: Session, key_id: int, now: dt.datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
