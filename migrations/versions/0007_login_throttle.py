"""login throttle: failed-login records shared by every worker process (PostgreSQL)

Revision ID: 0007_login_throttle
Revises: 0006_derivation_failures
Create Date: 2026-12-03 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_login_throttle"
down_revision: str | None = "0006_derivation_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(op.f("ix_login_throttle_last_failure"), "login_throttle", ["last_failure"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_last_failure"), table_name="login_throttle")
    op.drop_table("login_throttle")
