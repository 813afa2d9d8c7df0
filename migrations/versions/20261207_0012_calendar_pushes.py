"""calendar_pushes: bookings waiting to be put on (or taken off) their staff member's
linked calendar (Google Calendar), in order per booking

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000

Queued in the booking change's own transaction; pushed by the calendar pusher outside any
transaction (a calendar that fails never holds a booking back).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "done_at IS NULL AND parked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "calendar_pushes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('put', 'remove')", name=op.f("ck_calendar_pushes_action")),
        sa.CheckConstraint(
            "(action = 'put') = (event IS NOT NULL)", name=op.f("ck_calendar_pushes_event")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_calendar_pushes_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_calendar_pushes_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_pushes")),
    )
    op.create_index(
        "ix_calendar_pushes_open_next_attempt_at",
        "calendar_pushes",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_calendar_pushes_open_booking_id",
        "calendar_pushes",
        ["booking_id", "id"],
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_pushes_open_booking_id", table_name="calendar_pushes")
    op.drop_index("ix_calendar_pushes_open_next_attempt_at", table_name="calendar_pushes")
    op.drop_table("calendar_pushes")
