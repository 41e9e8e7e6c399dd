"""trade.multiplier: the instrument multiplier each trade was priced with

Rows that exist when this runs were priced with their instrument's multiplier as it
stands (1 where the symbol has no instrument row): that is what they are backfilled with.

Numbered 0011, not the 0009 first planned: main took 0010 (derivation claims) on top of
0008 first, and a database already at 0010 must still get this column.

Revision ID: 0011_trade_multiplier
Revises: 0010_derivation_claims
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_trade_multiplier"
down_revision: str | None = "0010_derivation_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trade", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("multiplier", sa.Float(), server_default=sa.text("1.0"), nullable=False)
        )
    op.execute(
        "UPDATE trade SET multiplier = (SELECT i.multiplier FROM instrument i"
        " WHERE i.user_id = trade.user_id AND i.symbol = trade.symbol)"
        " WHERE EXISTS (SELECT 1 FROM instrument i"
        " WHERE i.user_id = trade.user_id AND i.symbol = trade.symbol)"
    )
    with op.batch_alter_table("trade", schema=None) as batch_op:
        batch_op.alter_column("multiplier", existing_type=sa.Float(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("trade", schema=None) as batch_op:
        batch_op.drop_column("multiplier")
