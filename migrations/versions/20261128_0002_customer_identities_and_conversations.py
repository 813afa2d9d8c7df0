"""customer identities and conversation state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:33:20.746903
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_conversations_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_conversations")),
    )
    op.add_column("customers", sa.Column("channel", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("external_id", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("start_payload", sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_customers_channel_external_id"), "customers", ["channel", "external_id"]
    )
    op.create_check_constraint(
        op.f("ck_customers_identity_complete"),
        "customers",
        "(channel IS NULL) = (external_id IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_customers_identity_complete"), "customers", type_="check")
    op.drop_constraint(op.f("uq_customers_channel_external_id"), "customers", type_="unique")
    op.drop_column("customers", "start_payload")
    op.drop_column("customers", "external_id")
    op.drop_column("customers", "channel")
    op.drop_table("conversations")
