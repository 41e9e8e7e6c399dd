"""derivation claims: a pending position is derived from a read snapshot and written after;
what a rebuild reads of a stop order, kept on the order row

`pending_derivation.claimed_at`: when a derivation runner took the row (other runners leave
it until the claim is stale). `pending_derivation.touched_from`: the earliest time new data
of the position arrived while it was claimed (the ingest writer sets it; the runner's write
folds it into `from_ts`). `order.finished_ts` and `order.first_stop_price`: from the
order's events, so that a rebuild reads no event.

Revision ID: 0010_derivation_claims
Revises: 0008_api_key_scopes
Create Date: 2026-12-03 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0010_derivation_claims"
down_revision: str | None = "0008_api_key_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKING = sa.text("finished_ts IS NULL")
FINISHED = "'cancelled', 'expired', 'filled', 'rejected'"


def upgrade() -> None:
    with op.batch_alter_table("pending_derivation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("touched_from", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", backend.db.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_ts", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("first_stop_price", sa.Float(), nullable=True))
    op.execute(
        'UPDATE "order" SET'
        ' finished_ts = (SELECT MIN(e.ts) FROM order_event e WHERE e.run_id = "order".run_id'
        f' AND e.order_id = "order".order_id AND e.status IN ({FINISHED})),'
        " first_stop_price = (SELECT e.stop_price FROM order_event e"
        ' WHERE e.run_id = "order".run_id AND e.order_id = "order".order_id'
        " AND e.stop_price IS NOT NULL ORDER BY e.ts, e.id LIMIT 1)"
    )
    op.create_index(op.f("ix_order_run_id_parent_id"), "order", ["run_id", "parent_id"])
    op.create_index(
        op.f("ix_order_run_id_symbol_finished_ts"), "order", ["run_id", "symbol", "finished_ts"]
    )
    op.create_index("ix_order_working", "order", ["run_id", "symbol"], sqlite_where=WORKING,
                    postgresql_where=WORKING)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_order_working", table_name="order")
    op.drop_index(op.f("ix_order_run_id_symbol_finished_ts"), table_name="order")
    op.drop_index(op.f("ix_order_run_id_parent_id"), table_name="order")
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_column("first_stop_price")
        batch_op.drop_column("finished_ts")
    with op.batch_alter_table("pending_derivation", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("touched_from")
