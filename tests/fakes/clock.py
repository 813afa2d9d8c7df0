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


class RunningClock:
    """A clock that starts at a chosen instant and then runs with real time.

    For tests of workers that wait for real: retries and ``retry_after`` come due.
    """

    def __init__(self, start: datetime) -> None:
        import time

        self._start = require_aware(start)
        self._monotonic = time.monotonic
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._began)
