from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, id_column, user_fk, utcnow


class Instrument(Base):
    """What a symbol is worth: `multiplier` turns a price move into currency (MES = 5)."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("user_id", "symbol"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    symbol: Mapped[str] = mapped_column(String(64), nullable=False)
    multiplier: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    tick_size: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(16))
    asset_class: Mapped[str | None] = mapped_column(String(32))
    default_risk: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
