"""outbox: expired replies, window reopeners, early reports that expire

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_outbound_messages_status"), "outbound_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbound_messages_status"),
        "outbound_messages",
        "status IN ('pending', 'sent', 'failed', 'expired')",
    )
    op.add_column(
        "outbound_messages",
        sa.Column("kind", sa.Text(), server_default="reply", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_outbound_messages_kind"),
        "outbound_messages",
        "kind IN ('reply', 'window_reopener')",
    )
    op.add_column(
        "early_delivery_reports",
        sa.Column("window_closed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        op.f("ix_early_delivery_reports_received_at"),
        "early_delivery_reports",
        ["received_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_early_delivery_reports_received_at"), table_name="early_delivery_reports"
    )
    op.drop_column("early_delivery_reports", "window_closed")
    # Before it there are no reopeners: one still waiting would be read as an empty reply.
    op.execute(
        "UPDATE outbound_messages SET status = 'failed', last_error = 'schema downgraded'"
        " WHERE kind = 'window_reopener' AND status = 'pending'"
    )
    op.drop_constraint(op.f("ck_outbound_messages_kind"), "outbound_messages", type_="check")
    op.drop_column("outbound_messages", "kind")
    # Expired replies were never sent: they go back to being failed ones.
    op.execute("UPDATE outbound_messages SET status = 'failed' WHERE status = 'expired'")
    op.drop_constraint(op.f("ck_outbound_messages_status"), "outbound_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbound_messages_status"),
        "outbound_messages",
        "status IN ('pending', 'sent', 'failed')",
    )
