"""bookings: the key of the request that made a booking, so a request sent twice (a
double click, a browser's resend, an API client's retry) books once

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:00:00.000000

``request_key`` is chosen by the caller (a form's hidden field, an API client's
``Idempotency-Key``); most bookings (the chat's) have none. The unique index is what makes
two requests with one key race to a single booking.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("request_key", sa.Text(), nullable=True))
    op.create_index(
        "uq_bookings_request_key",
        "bookings",
        ["request_key"],
        unique=True,
        postgresql_where=sa.text("request_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_bookings_request_key", table_name="bookings")
    op.drop_column("bookings", "request_key")
