"""A clock the test moves by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain.timeline import require_aware


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self._now = require_aware(now)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = require_aware(now)

    def advance(self, delta: timedelta) -> None:
        self._now += delta
