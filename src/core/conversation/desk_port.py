"""What the conversation needs from the salon: the port ``converse`` implements.

A desk serves one customer. The conversation asks it for slots and bookings and never
sees a database, so its flows are tested with an in-memory desk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.domain.availability import Slot, SlotQuery
from core.domain.booking import Booking
from core.domain.catalog import Catalog


class Desk(Protocol):
    def now(self) -> datetime: ...

    async def catalog(self) -> Catalog: ...

    async def slots(self, query: SlotQuery) -> list[Slot]:
        """Free slots, as ``FindSlots`` gives them."""
        ...

    async def hold(self, service_key: str, start: datetime, staff_key: str | None) -> Booking:
        """Hold a slot for this customer; raises ``SlotTaken`` or ``SlotNotOffered``."""
        ...

    async def release(self, booking_id: int) -> None:
        """Let a hold go; a hold that is already gone is fine."""
        ...

    async def confirm(self, booking_id: int) -> Booking:
        """Confirm this customer's hold; raises ``HoldExpired``."""
        ...

    async def confirm_attendance(self, booking_id: int, version: int) -> Booking:
        """Note that the customer is coming to this confirmed visit of theirs (a reminder's
        Confirm), as they were shown it (``version``); already noted: unchanged. Raises
        ``BookingNotFound``, ``InvalidTransition`` (no longer confirmed, or started) or
        ``VisitMoved`` (moved since that version)."""
        ...

    async def booking(self, booking_id: int) -> Booking:
        """One of this customer's bookings; raises ``BookingNotFound``."""
        ...

    async def upcoming(self) -> Sequence[Booking]:
        """This customer's confirmed visits still to come, soonest first."""
        ...

    async def cancel(self, booking_id: int) -> Booking:
        """Raises ``CutoffPassed``, ``BookingNotFound`` or ``InvalidTransition``."""
        ...

    async def reschedule(self, booking_id: int, start: datetime) -> Booking:
        """Move a visit, same staff member; raises ``SlotTaken``, ``CutoffPassed``, ..."""
        ...

    async def set_language(self, language: str) -> None: ...

    async def set_phone(self, phone: str) -> None: ...


def pick_language(platform_code: str | None, offered: Sequence[str]) -> str:
    """The customer's language from their platform's code (``ru``, ``pt-BR``, ``en_US.UTF-8``).

    The first of ``offered`` (the salon's default) when the code names none of them.
    """
    if platform_code:
        code = platform_code.split(".")[0].replace("_", "-").lower()
        for candidate in (code, code.split("-")[0]):
            if candidate in offered:
                return candidate
    return offered[0]
