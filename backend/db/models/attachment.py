"""Images a user attached to a trade, a journal day or a playbook (backend/attachments).

The bytes live under the data directory (`attachments/<user_id>/<id>.<ext>` and
`<id>.thumb.webp`); the row says what they are. A trade's attachments are keyed by the
trade's stable id (its first fill's) with a foreign key to its run, never to `trade`,
which a rebuild deletes and re-inserts; a playbook's carry a foreign key to it. Rows go
with their user, run or playbook (ON DELETE CASCADE); the files of rows that are gone are
removed by `backend.attachments.service.sweep`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigId, created_at_column, id_column, run_fk, user_fk


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (
        Index(None, "user_id", "target", "key"),
        Index(None, "run_id"),
        CheckConstraint("target IN ('trade', 'day', 'playbook')", name="target"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    target: Mapped[str] = mapped_column(String(10), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    run_id: Mapped[int | None] = run_fk(nullable=True)
    playbook_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("playbook.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()
