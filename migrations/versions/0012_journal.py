"""journal: playbooks with rules, mistakes, per-trade reviews and rule ticks, daily journal

Per-trade rows (trade_journal, trade_mistake, trade_rule_tick) are keyed by the trade's
stable id and carry no foreign key to trade: rebuilds delete and re-insert trade rows.

Revision ID: 0012_journal
Revises: 0011_trade_multiplier
Create Date: 2026-12-04 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0012_journal"
down_revision: str | None = "0011_trade_multiplier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_day",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("review", sa.Text(), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=True),
        sa.Column("discipline", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_journal_day_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_day")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_journal_day_user_id_day")),
    )
    op.create_table(
        "journal_template",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("updated_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_journal_template_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_journal_template")),
    )
    op.create_table(
        "mistake",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_mistake_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mistake")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_mistake_user_id_name")),
    )
    op.create_table(
        "playbook",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("strategy", sa.String(length=200), nullable=True),
        sa.Column("created_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_playbook_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_playbook_user_id_name")),
        sa.UniqueConstraint("user_id", "strategy", name=op.f("uq_playbook_user_id_strategy")),
    )
    op.create_table(
        "playbook_rule",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "playbook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbook.id"],
            name=op.f("fk_playbook_rule_playbook_id_playbook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_rule")),
    )
    op.create_index(
        op.f("ix_playbook_rule_playbook_id_position"),
        "playbook_rule",
        ["playbook_id", "position"],
        unique=False,
    )
    op.create_table(
        "trade_journal",
        sa.Column(
            "trade_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "playbook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("review_state", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", backend.db.base.UTCDateTime(), nullable=True),
        sa.Column("updated_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbook.id"],
            name=op.f("fk_trade_journal_playbook_id_playbook"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["strategy_run.id"],
            name=op.f("fk_trade_journal_run_id_strategy_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_trade_journal_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_trade_journal")),
    )
    op.create_index(
        op.f("ix_trade_journal_playbook_id"), "trade_journal", ["playbook_id"], unique=False
    )
    op.create_index(op.f("ix_trade_journal_run_id"), "trade_journal", ["run_id"], unique=False)
    op.create_index(
        op.f("ix_trade_journal_user_id_review_state"),
        "trade_journal",
        ["user_id", "review_state"],
        unique=False,
    )
    op.create_table(
        "trade_mistake",
        sa.Column("trade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "mistake_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["mistake_id"],
            ["mistake.id"],
            name=op.f("fk_trade_mistake_mistake_id_mistake"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trade_id"],
            ["trade_journal.trade_id"],
            name=op.f("fk_trade_mistake_trade_id_trade_journal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trade_id", "mistake_id", name=op.f("pk_trade_mistake")),
    )
    op.create_index(
        op.f("ix_trade_mistake_mistake_id"), "trade_mistake", ["mistake_id"], unique=False
    )
    op.create_table(
        "trade_rule_tick",
        sa.Column("trade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["playbook_rule.id"],
            name=op.f("fk_trade_rule_tick_rule_id_playbook_rule"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trade_id"],
            ["trade_journal.trade_id"],
            name=op.f("fk_trade_rule_tick_trade_id_trade_journal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trade_id", "rule_id", name=op.f("pk_trade_rule_tick")),
    )
    op.create_index(
        op.f("ix_trade_rule_tick_rule_id"), "trade_rule_tick", ["rule_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_trade_rule_tick_rule_id"), table_name="trade_rule_tick")
    op.drop_table("trade_rule_tick")
    op.drop_index(op.f("ix_trade_mistake_mistake_id"), table_name="trade_mistake")
    op.drop_table("trade_mistake")
    op.drop_index(op.f("ix_trade_journal_user_id_review_state"), table_name="trade_journal")
    op.drop_index(op.f("ix_trade_journal_run_id"), table_name="trade_journal")
    op.drop_index(op.f("ix_trade_journal_playbook_id"), table_name="trade_journal")
    op.drop_table("trade_journal")
    op.drop_index(op.f("ix_playbook_rule_playbook_id_position"), table_name="playbook_rule")
    op.drop_table("playbook_rule")
    op.drop_table("playbook")
    op.drop_table("mistake")
    op.drop_table("journal_template")
    op.drop_table("journal_day")
