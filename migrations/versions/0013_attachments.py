"""attachment: images attached to a trade (keyed by its stable id, FK to its run), a journal
day or a playbook (FK); the files live under the data directory (backend/attachments)

Revision ID: 0013_attachments
Revises: 0012_journal
Create Date: 2026-12-04 13:12:34.000108
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0013_attachments"
down_revision: str | None = "0012_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "playbook_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "target IN ('trade', 'day', 'playbook')", name=op.f("ck_attachment_target")
        ),
        sa.ForeignKeyConstraint(
            ["playbook_id"],
            ["playbook.id"],
            name=op.f("fk_attachment_playbook_id_playbook"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["strategy_run.id"],
            name=op.f("fk_attachment_run_id_strategy_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_attachment_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_playbook_id"), ["playbook_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachment_user_id_target_key"),
            ["user_id", "target", "key"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_user_id_target_key"))
        batch_op.drop_index(batch_op.f("ix_attachment_run_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_playbook_id"))

    op.drop_table("attachment")
