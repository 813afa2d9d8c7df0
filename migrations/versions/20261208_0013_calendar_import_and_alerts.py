"""calendar_syncs, calendar_busy, calendar_alerts: the staff's Google Calendars read back

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00.000000

``calendar_syncs``: one row per staff member's linked calendar, its incremental-sync state
(``events.list`` sync token, the window the full sync covered), the claim of the process
syncing it, a sync asked for (a push notification, ``salonbot google resync``) and its
push channel (``events.watch``; only the SHA-256 of its token is kept; when it was asked
for, to renew it in the last part of the life Google granted).
``calendar_busy``: the calendar's own events that make its staff member busy (opaque, not
cancelled, not salonbot's), UTC, no title kept (the staff member's own life); availability reads them with the bookings and time off.
``calendar_alerts``: what salonbot could not reconcile (a chat booking that a calendar
event now overlaps, a move in Google reverted), for the staff page; told once.
``ix_calendar_pushes_booking_id_calendar_id``: what salonbot last wrote for a booking on a
calendar, read for each of salonbot's own events a calendar read finds.
``calendar_seen_events``: salonbot's own events as a read found them, kept with the read's
busy time until they are reconciled with their bookings (retried, parked after too many
failures).
``ix_calendar_pushes_stuck_staff_id``: the parked calendar pushes no later push settled,
for the staff page and ``salonbot google status``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_syncs",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wanted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_wanted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.Text(), nullable=True),
        sa.Column("channel_resource_id", sa.Text(), nullable=True),
        sa.Column("channel_token_digest", sa.Text(), nullable=True),
        sa.Column("channel_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_calendar_syncs_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_calendar_syncs")),
    )
    op.create_index(
        "ix_calendar_syncs_channel_id",
        "calendar_syncs",
        ["channel_id"],
        unique=True,
        postgresql_where=sa.text("channel_id IS NOT NULL"),
    )
    op.create_table(
        "calendar_busy",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_calendar_busy_times_ordered")),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["calendar_syncs.staff_id"],
            name=op.f("fk_calendar_busy_staff_id_calendar_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "event_id", name=op.f("pk_calendar_busy")),
    )
    op.create_index(
        "ix_calendar_busy_staff_id_starts_at", "calendar_busy", ["staff_id", "starts_at"]
    )
    op.create_table(
        "calendar_alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.Text(), server_default="", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('conflict', 'reverted')", name=op.f("ck_calendar_alerts_kind")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_calendar_alerts_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_calendar_alerts_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_alerts")),
    )
    op.create_index(
        "ix_calendar_alerts_told_once",
        "calendar_alerts",
        ["kind", "booking_id", "event_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'conflict'"),
    )
    op.create_index(
        "ix_calendar_alerts_open_staff_id",
        "calendar_alerts",
        ["staff_id", "created_at"],
        postgresql_where=sa.text("dismissed_at IS NULL"),
    )
    op.create_table(
        "calendar_seen_events",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_calendar_seen_events_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "booking_id", name=op.f("pk_calendar_seen_events")),
    )
    # What salonbot last wrote for a booking on a calendar (our events edited in Google).
    op.create_index(
        "ix_calendar_pushes_booking_id_calendar_id",
        "calendar_pushes",
        ["booking_id", "calendar_id", "id"],
    )
    op.create_index(
        "ix_calendar_pushes_stuck_staff_id",
        "calendar_pushes",
        ["staff_id", "booking_id"],
        postgresql_where=sa.text("parked_at IS NOT NULL AND done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_pushes_stuck_staff_id", table_name="calendar_pushes")
    op.drop_index("ix_calendar_pushes_booking_id_calendar_id", table_name="calendar_pushes")
    op.drop_table("calendar_seen_events")
    op.drop_index("ix_calendar_alerts_open_staff_id", table_name="calendar_alerts")
    op.drop_index("ix_calendar_alerts_told_once", table_name="calendar_alerts")
    op.drop_table("calendar_alerts")
    op.drop_index("ix_calendar_busy_staff_id_starts_at", table_name="calendar_busy")
    op.drop_table("calendar_busy")
    op.drop_index("ix_calendar_syncs_channel_id", table_name="calendar_syncs")
    op.drop_table("calendar_syncs")
