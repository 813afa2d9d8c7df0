"""Who may change what on the staff side.

The rule: the owner sees and edits everything. A staff member sees the whole salon and
edits only their own bookings and time off: they book walk-ins with themselves, move
their bookings within their own column (handing a booking to a colleague is the owner's
call), cancel and mark their own visits, and add or remove their own time off.
"""

from __future__ import annotations

from core.calendar.desk import NotAllowed
from core.calendar.ports import Role, StaffUser
from core.domain.booking import Actor, ActorKind


def may_edit(user: StaffUser, staff_key: str) -> bool:
    """Whether ``user`` may change bookings and time off in ``staff_key``'s column."""
    return user.role is Role.OWNER or (user.staff_key is not None and user.staff_key == staff_key)


def require_may_edit(user: StaffUser, staff_key: str, what: str) -> None:
    if not may_edit(user, staff_key):
        raise NotAllowed(what)


def actor_of(user: StaffUser) -> Actor:
    """The actor recorded in a booking's history for a change ``user`` made: a staff
    actor named by the user's email (which outlives the account)."""
    return Actor(ActorKind.STAFF, user.email)
