"""The outbox's wake-up across processes: a reply queued in one ``salonbot serve`` is sent
at once by whichever process leads its channel, not at that dispatcher's next poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.leadership")

# The Postgres channel a leader listens on (``Leadership(listen=...)``).
OUTBOX_NOTICES = "salonbot_outbox"
_NOTIFY = text("SELECT pg_notify(:channel, '')").bindparams(channel=OUTBOX_NOTICES)


class SharedWakeup(Wakeup):
    """Wakes ``local`` (this process's dispatchers), and, unless this process leads every
    channel (``leads_all``), the leaders through a ``NOTIFY``. Notices that come while one
    is being sent are folded into one more."""

    def __init__(self, engine: AsyncEngine, local: Wakeup, leads_all: Callable[[], bool]) -> None:
        super().__init__()
        self._engine = engine
        self._local = local
        self._leads_all = leads_all
        self._again = False
        self._telling: asyncio.Task[None] | None = None
        self.told = 0  # notices sent to the other processes

    def notify(self) -> None:
        self._local.notify()
        if self._leads_all():
            return
        self._again = True
        if self._telling is None or self._telling.done():
            self._telling = asyncio.create_task(self._tell(), name="salonbot outbox notice")

    async def wait(self, seconds: float) -> None:
        await self._local.wait(seconds)

    async def _tell(self) -> None:
        while self._again:
            self._again = False
            try:
                async with self._engine.connect() as connection:
                    await connection.execute(_NOTIFY)
                    await connection.commit()
                self.told += 1
            except Exception as error:
                # The leader's own poll finds the reply within a second all the same.
                log.debug("outbox notice not sent", extra={"error": type(error).__name__})
                return

    async def close(self) -> None:
        """Stop a notice being sent (the process is stopping)."""
        if self._telling is not None:
            self._telling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._telling
            self._telling = None
