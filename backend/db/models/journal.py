"""The journal a trader writes: playbooks with rules, mistakes, per-trade reviews, days.

Per-trade rows are keyed by the trade's stable id (its first fill's id) and never carry a
foreign key to `trade`: a rebuild deletes and re-inserts trade rows, the journal stays.
They go with their user or their run (ON DELETE CASCADE on both).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import (
    Base,
    BigId,
    UTCDateTime,
    created_at_column,
    id_column,
    run_fk,
    user_fk,
    utcnow,
)


class Playbook(Base):
    """A setup a trader trades by: what it is, when it applies, and its checklist of rules.

    `strategy` names the strategy whose runs' trades get this playbook by default (unless
    one is assigned by hand); unique per user where set.
    """

    __tablename__ = "playbook"
    __table_args__ = (UniqueConstraint("user_id", "name"), UniqueConstraint("user_id", "strategy"))

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    conditions: Mapped[str] = mapped_column(Text, nullable=False, default="")
    strategy: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PlaybookRule(Base):
    """One item of a playbook's checklist, in `position` order."""

    __tablename__ = "playbook_rule"
    __table_args__ = (Index(None, "playbook_id", "position"),)

    id: Mapped[int] = id_column()
    playbook_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("playbook.id", ondelete="CASCADE"), nullable=False
    )
    text: Mapped[str] = mapped_column(String(300), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class Mistake(Base):
    """A mistake tag from the user's own list ("moved stop", "FOMO")."""

    __tablename__ = "mistake"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    created_at: Mapped[dt.datetime] = created_at_column()


class TradeJournal(Base):
    """A trade's review: its hand-assigned playbook (NULL: the strategy default applies)
    and review state. `trade_id` is the trade's stable id, not a foreign key."""

    __tablename__ = "trade_journal"
    __table_args__ = (
        Index(None, "user_id", "review_state"),
        Index(None, "run_id"),
        Index(None, "playbook_id"),
    )

    trade_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = user_fk()
    run_id: Mapped[int] = run_fk()
    playbook_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("playbook.id", ondelete="SET NULL")
    )
    review_state: Mapped[str] = mapped_column(String(16), nullable=False, default="new")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TradeMistake(Base):
    """A mistake tag on a trade."""

    __tablename__ = "trade_mistake"
    __table_args__ = (Index(None, "mistake_id"),)

    trade_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("trade_journal.trade_id", ondelete="CASCADE"), primary_key=True
    )
    mistake_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mistake.id", ondelete="CASCADE"), primary_key=True
    )


class TradeRuleTick(Base):
    """A rule of the trade's playbook ticked followed (true) or broken (false).

    An unticked rule has no row."""

    __tablename__ = "trade_rule_tick"
    __table_args__ = (Index(None, "rule_id"),)

    trade_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("trade_journal.trade_id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("playbook_rule.id", ondelete="CASCADE"), primary_key=True
    )
    followed: Mapped[bool] = mapped_column(Boolean, nullable=False)


class JournalDay(Base):
    """One trading day's entry, the day taken in the user's time zone."""

    __tablename__ = "journal_day"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    plan: Mapped[str] = mapped_column(Text, nullable=False, default="")
    review: Mapped[str] = mapped_column(Text, nullable=False, default="")
    mood: Mapped[int | None] = mapped_column(Integer)
    discipline: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class JournalTemplate(Base):
    """The text a new day's plan starts from."""

    __tablename__ = "journal_template"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    template: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
