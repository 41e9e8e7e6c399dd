"""derivation failures: a pending position whose rebuild failed, why, since when, next try

Revision ID: 0006_derivation_failures
Revises: 0005_backtest
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0006_derivation_failures"
down_revision: str | None = "0005_backtest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_derivation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("failed_at", backend.db.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("retry_at", backend.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_derivation", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("error")
        batch_op.drop_column("attempts")
