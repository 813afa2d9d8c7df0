"""Protocols the outside world implements for the core."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from core.domain.timeline import Interval


class Clock(Protocol):
    """Time is a dependency: every rule asks the clock, never ``datetime.now`` directly."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ExternalBusy(Protocol):
    """Busy time from outside salonbot (a staff member's own calendar, say)."""

    async def busy(self, staff_key: str, window: Interval) -> Sequence[Interval]:
        """Busy intervals of the staff member that overlap ``window``."""
        ...


class NoExternalBusy:
    async def busy(self, staff_key: str, window: Interval) -> Sequence[Interval]:
        return ()
