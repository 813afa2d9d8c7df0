"""Retention and erasure: pruning indexes, forgotten customers, who staff messages name

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 10:00:00.000000

``ix_inbound_events_handled_at`` and ``ix_outbound_messages_finished_created_at``: the
retention job's walk over handled events and finished (sent or expired) messages, oldest
first, in small batches, and over failed ones (kept three times as long).
``customers.forgotten_at``: when a customer's personal data was erased on request
(``salonbot customer forget``); the row stays, anonymous, for the bookings that name it. ``outbound_messages.customer_ids``: the customers a message to a
staff chat names (booking notices, agendas), so erasure finds them there too.
``outbound_messages.sending_since``: when a dispatcher committed that it is about to send
the message (several processes: a new leader leaves it to the old one's outcome for a
while rather than send it again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("forgotten_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_inbound_events_handled_at",
        "inbound_events",
        ["handled_at"],
        postgresql_where=sa.text("status IN ('done', 'ignored', 'failed')"),
    )
    op.create_index(
        "ix_outbound_messages_finished_created_at",
        "outbound_messages",
        ["created_at"],
        postgresql_where=sa.text("status IN ('sent', 'expired', 'failed')"),
    )
    op.add_column(
        "outbound_messages",
        sa.Column("customer_ids", postgresql.ARRAY(sa.BigInteger())),
    )
    op.create_index(
        "ix_outbound_messages_customer_ids",
        "outbound_messages",
        ["customer_ids"],
        postgresql_using="gin",
        postgresql_where=sa.text("customer_ids IS NOT NULL"),
    )
    op.add_column("outbound_messages", sa.Column("sending_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("outbound_messages", "sending_since")
    op.drop_index("ix_outbound_messages_customer_ids", table_name="outbound_messages")
    op.drop_column("outbound_messages", "customer_ids")
    op.drop_index("ix_outbound_messages_finished_created_at", table_name="outbound_messages")
    op.drop_index("ix_inbound_events_handled_at", table_name="inbound_events")
    op.drop_column("customers", "forgotten_at")
