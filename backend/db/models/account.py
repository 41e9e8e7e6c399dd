"""Trading accounts, their cash flows, and the FX rates a user enters by hand.

An account is named as fills carry it (`execution.account`, "" being the default
account) and is owned by its user; trades and cash flows find their account by that
name, so neither carries a foreign key and an account's rows survive a trade rebuild.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, created_at_column, id_column, user_fk, utcnow

Money = Numeric(24, 8)
ACCOUNT_TYPES = ("cash", "margin", "funded", "evaluation")
CASH_KINDS = ("deposit", "withdrawal", "fee", "payout")


class Account(Base):
    """A broker account: its base currency and the balance it started from."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        CheckConstraint(
            "type IN (" + ", ".join(f"'{t}'" for t in ACCOUNT_TYPES) + ")", name="type"
        ),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    base_currency: Mapped[str] = mapped_column(String(16), nullable=False, default="USD")
    starting_balance: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    broker: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16), nullable=False, default="cash")
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CashFlow(Base):
    """Money in or out of an account outside trades; `amount` is positive, `kind` signs it.

    Identity is (user, source, flow_id), as for fills; `currency` null means the
    account's base currency. A removed flow is kept (`removed_at`) and counts no more.
    """

    __tablename__ = "cash_flow"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "flow_id"),
        Index(None, "user_id", "account", "ts"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CASH_KINDS) + ")", name="kind"),
    )

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    flow_id: Mapped[str] = mapped_column(String(200), nullable=False)
    account: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(16))
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = created_at_column()
    amended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class FxRate(Base):
    """A rate entered by hand: one `base` is worth `rate` `quote` on `day` (EURUSD 1.08)."""

    __tablename__ = "fx_rate"
    __table_args__ = (UniqueConstraint("user_id", "base", "quote", "day"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = user_fk()
    base: Mapped[str] = mapped_column(String(16), nullable=False)
    quote: Mapped[str] = mapped_column(String(16), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    rate: Mapped[Decimal] = mapped_column(Money, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
