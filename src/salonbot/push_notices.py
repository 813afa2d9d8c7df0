"""``PushNotices``: the database's announcements of queued calendar pushes
(``core.db.calendar_push_repository.PUSHES_CHANNEL``), heard on one connection of their
own, each waking the pusher (``core.services.calendar_push_wake``).

Whichever process queued the push (a chat's booking in another ``serve``, ``salonbot
chat``, the staff pages), the notice reaches every listening process at its commit. When
the connection is lost it is made again with a growing pause, and the pusher is woken
once it listens again: notices sent meanwhile are gone (the scheduler's tick would find
their pushes too, a little later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from core.db.calendar_push_repository import PUSHES_CHANNEL
from core.services.wakeup import Wakeup
from salonbot.live import Connect

log = logging.getLogger("salonbot.calendar_pushes")

FIRST_PAUSE, LAST_PAUSE = 0.5, 30.0  # between attempts to reconnect
KEEPALIVE = 30.0  # an idle connection is asked to answer this often, within as long


class PushNotices:
    def __init__(
        self,
        connect: Connect,
        wakeup: Wakeup,
        *,
        keepalive: float = KEEPALIVE,
        first_pause: float = FIRST_PAUSE,
    ) -> None:
        self._connect = connect
        self._wakeup = wakeup
        self._keepalive = keepalive
        self._first_pause = first_pause
        self._stopping = asyncio.Event()
        self._listening = asyncio.Event()
        self._nudge = asyncio.Event()  # stopping, or the connection lost

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()

    async def run(self) -> None:
        """Listen until ``stop``, reconnecting whenever the connection is lost."""
        pause = self._first_pause
        missed = False
        while not self._stopping.is_set():
            connection: Any = None
            try:
                connection = await self._connect()
                lost = asyncio.Event()
                connection.add_termination_listener(self._on_lost(lost))
                await connection.add_listener(PUSHES_CHANNEL, self._heard)
                self._listening.set()
                if missed:
                    log.info("calendar push notices: listening again")
                    self._wakeup.notify()
                    missed = False
                pause = self._first_pause
                await self._watch(connection, lost)
            except Exception as error:
                # Whatever it was (the database away, a proxy's protocol error), listening
                # must not end for good: pushes would wait for the tick until a restart.
                if not missed:
                    log.warning(
                        "calendar push notices: no connection to the database; trying again",
                        extra={"error": type(error).__name__},
                    )
                missed = True
            finally:
                self._listening.clear()
                if connection is not None:
                    connection.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)
            pause = min(pause * 2, LAST_PAUSE)

    def _on_lost(self, lost: asyncio.Event) -> Callable[[object], None]:
        def on_lost(_: object) -> None:
            lost.set()
            self._nudge.set()

        return on_lost

    def _heard(self, _connection: object, _pid: int, _channel: str, _payload: str) -> None:
        self._wakeup.notify()

    async def _watch(self, connection: Any, lost: asyncio.Event) -> None:
        """Until the connection is lost (raises) or listening stops; an idle connection
        must answer every ``keepalive`` seconds (a network that drops packets silently
        never closes it)."""
        while not self._stopping.is_set():
            if lost.is_set() or connection.is_closed():
                raise asyncpg.ConnectionDoesNotExistError("the connection was lost")
            self._nudge.clear()
            try:
                await asyncio.wait_for(self._nudge.wait(), self._keepalive)
            except TimeoutError:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self._keepalive)
