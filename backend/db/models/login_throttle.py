from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base


class LoginThrottleRecord(Base):
    """Failed logins under one throttle key (backend/auth/throttle.py), on PostgreSQL, where
    every worker process must see the same counts. Times are epoch seconds."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index(None, "last_failure"),)

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure: Mapped[float] = mapped_column(Float, nullable=False)
    blocked_until: Mapped[float] = mapped_column(Float, nullable=False)
