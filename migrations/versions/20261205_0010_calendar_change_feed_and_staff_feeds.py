"""staff web: a notification on every change of bookings and time off, and the staff's
calendar feed links

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00.000000

Every committed insert, update or delete of a booking or a time off sends a small JSON
payload on the channel ``salonbot_calendar`` (``core.db.calendar_notices`` reads it), so
every process's live staff pages hear of it, whoever made the change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_notify delivers at commit, once per distinct payload of a transaction: a rolled-back
# booking is never announced. An update that changes nothing is not announced either.
NOTIFY_FUNCTION = """
CREATE FUNCTION salonbot_calendar_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb := jsonb_build_object('kind', TG_ARGV[0]);
BEGIN
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        payload := payload || jsonb_build_object('old', jsonb_build_object(
            'staff', OLD.staff_id, 'start', OLD.starts_at, 'end', OLD.ends_at));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        payload := payload || jsonb_build_object('new', jsonb_build_object(
            'staff', NEW.staff_id, 'start', NEW.starts_at, 'end', NEW.ends_at));
    END IF;
    PERFORM pg_notify('salonbot_calendar', payload::text);
    RETURN NULL;
END
$$
"""
TRIGGERS = {"bookings": "booking", "time_off": "time_off"}


def upgrade() -> None:
    op.execute(NOTIFY_FUNCTION)
    for table, kind in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_calendar_changed AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION salonbot_calendar_changed('{kind}')"
        )
    op.create_table(
        "staff_feeds",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("token_digest", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_feeds_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_feeds")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_staff_feeds_token_digest")),
    )


def downgrade() -> None:
    op.drop_table("staff_feeds")
    for table in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_calendar_changed ON {table}")
    op.execute("DROP FUNCTION salonbot_calendar_changed()")
