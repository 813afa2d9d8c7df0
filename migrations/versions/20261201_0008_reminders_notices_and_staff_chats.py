"""reminders: scheduled notices, outbox priority and expiry, staff chats and link codes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "bookings", sa.Column("customer_confirmed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "bookings",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.create_index(
        "ix_bookings_confirmed_ends_at",
        "bookings",
        ["ends_at"],
        postgresql_where=sa.text("status = 'confirmed'"),
    )
    op.add_column(
        "outbound_messages",
        sa.Column("priority", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "outbound_messages", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("outbound_messages", sa.Column("booking_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_outbound_messages_booking_id_bookings"),
        "outbound_messages",
        "bookings",
        ["booking_id"],
        ["id"],
    )
    op.drop_constraint(op.f("ck_outbound_messages_kind"), "outbound_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbound_messages_kind"),
        "outbound_messages",
        "kind IN ('reply', 'window_reopener', 'template')",
    )
    op.create_check_constraint(
        op.f("ck_outbound_messages_priority"), "outbound_messages", "priority IN (0, 1)"
    )
    op.create_index(
        "ix_outbound_messages_pending_by_priority",
        "outbound_messages",
        ["channel", "priority", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_outbound_messages_booking_id",
        "outbound_messages",
        ["booking_id"],
        postgresql_where=sa.text("booking_id IS NOT NULL AND status = 'pending'"),
    )
    op.create_table(
        "scheduled_notices",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("rule", sa.Text(), server_default="", nullable=False),
        sa.Column("occasion", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('reminder', 'follow_up', 'agenda')", name=op.f("ck_scheduled_notices_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'skipped', 'withdrawn')",
            name=op.f("ck_scheduled_notices_status"),
        ),
        sa.CheckConstraint(
            "(kind = 'agenda' AND staff_id IS NOT NULL AND booking_id IS NULL)"
            " OR (kind <> 'agenda' AND booking_id IS NOT NULL AND staff_id IS NULL)",
            name=op.f("ck_scheduled_notices_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_scheduled_notices_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_scheduled_notices_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_notices")),
    )
    op.create_index(
        "uq_scheduled_notices_booking",
        "scheduled_notices",
        ["booking_id", "kind", "rule", "occasion"],
        unique=True,
        postgresql_where=sa.text("booking_id IS NOT NULL"),
    )
    op.create_index(
        "uq_scheduled_notices_staff",
        "scheduled_notices",
        ["staff_id", "kind", "occasion"],
        unique=True,
        postgresql_where=sa.text("staff_id IS NOT NULL"),
    )
    op.create_index(
        "ix_scheduled_notices_due",
        "scheduled_notices",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "staff_chats",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_chats_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_staff_chats")),
    )
    op.create_index(op.f("ix_staff_chats_staff_id"), "staff_chats", ["staff_id"])
    op.create_table(
        "staff_link_codes",
        sa.Column("code_digest", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_link_codes_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_staff_link_codes")),
    )
    op.create_index(op.f("ix_staff_link_codes_staff_id"), "staff_link_codes", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_link_codes_staff_id"), table_name="staff_link_codes")
    op.drop_table("staff_link_codes")
    op.drop_index(op.f("ix_staff_chats_staff_id"), table_name="staff_chats")
    op.drop_table("staff_chats")
    op.drop_index("ix_scheduled_notices_due", table_name="scheduled_notices")
    op.drop_index("uq_scheduled_notices_staff", table_name="scheduled_notices")
    op.drop_index("uq_scheduled_notices_booking", table_name="scheduled_notices")
    op.drop_table("scheduled_notices")
    # Before it there are no template messages: one still waiting is never sent, and all
    # are kept as failed replies (nothing reads the body of a message no longer pending).
    op.execute(
        "UPDATE outbound_messages SET kind = 'reply', status = CASE status"
        " WHEN 'pending' THEN 'failed' ELSE status END, last_error = CASE status"
        " WHEN 'pending' THEN 'schema downgraded' ELSE last_error END WHERE kind = 'template'"
    )
    op.drop_index("ix_outbound_messages_booking_id", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_pending_by_priority", table_name="outbound_messages")
    op.drop_constraint(op.f("ck_outbound_messages_priority"), "outbound_messages", type_="check")
    op.drop_constraint(op.f("ck_outbound_messages_kind"), "outbound_messages", type_="check")
    op.create_check_constraint(
        op.f("ck_outbound_messages_kind"),
        "outbound_messages",
        "kind IN ('reply', 'window_reopener')",
    )
    op.drop_constraint(
        op.f("fk_outbound_messages_booking_id_bookings"), "outbound_messages", type_="foreignkey"
    )
    op.drop_column("outbound_messages", "booking_id")
    op.drop_column("outbound_messages", "expires_at")
    op.drop_column("outbound_messages", "priority")
    op.drop_index("ix_bookings_confirmed_ends_at", table_name="bookings")
    op.drop_column("bookings", "version")
    op.drop_column("bookings", "customer_confirmed_at")
