"""api key scopes and expiry; stream tickets

Keys that exist when this runs get the scopes every key had before: ingest and read.

Revision ID: 0008_api_key_scopes
Revises: 0007_login_throttle
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0008_api_key_scopes"
down_revision: str | None = "0007_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# backend.auth.scopes.LEGACY_SCOPES, spelled out: a migration must not change with the code.
LEGACY_SCOPES = '["ingest", "read"]'


def upgrade() -> None:
    # The default fills the rows that exist; new rows always name their scopes.
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.JSON(), server_default=sa.text(f"'{LEGACY_SCOPES}'"),
                      nullable=False)  # fmt: skip
        )
        batch_op.add_column(sa.Column("expires_at", backend.db.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.alter_column("scopes", existing_type=sa.JSON(), server_default=None)

    op.create_table(
        "stream_ticket",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "api_key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", backend.db.base.UTCDateTime(), nullable=False),
        sa.Column("credential_expires_at", backend.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_stream_ticket_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_stream_ticket_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_ticket")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_stream_ticket_ticket_hash")),
    )
    with op.batch_alter_table("stream_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_ticket_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stream_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_ticket_expires_at"))
    op.drop_table("stream_ticket")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
