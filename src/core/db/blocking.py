"""Which bookings take their staff member's time: the one predicate every query uses.

Two levels, one built on the other:

* ``is_active``: held or confirmed. The exclusion constraint ``ex_bookings_staff_blocked``
  covers exactly these rows (``ACTIVE_STATUS_SQL`` in ``core.db.tables``), so a lapsed hold
  still blocks inserts until it is swept (``BookingRepository.expire_holds``).
* ``blocks_time(now)``: what availability and clash checks read: active, and a hold only
  until it lapses, even before it is swept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from core.db.tables import ACTIVE_STATUS_VALUES, bookings
from core.domain.booking import BookingStatus


def is_active() -> ColumnElement[bool]:
    """The booking is held or confirmed (a lapsed hold included)."""
    return bookings.c.status.in_(ACTIVE_STATUS_VALUES)


def blocks_time(now: datetime) -> ColumnElement[bool]:
    """The booking takes its staff member's time at ``now``: a lapsed hold no longer does."""
    return and_(
        is_active(),
        or_(bookings.c.status != BookingStatus.HELD.value, bookings.c.hold_expires_at > now),
    )
