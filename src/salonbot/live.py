"""``PostgresLiveChanges``: the staff calendar's live feed (``core.calendar.desk.LiveChanges``)
from Postgres's notices of changed bookings and time off (migration 0010).

One listening connection per process, however many browsers watch: each notice is mapped
once (``CalendarChanges``) and offered to every subscriber's own bounded queue. A
subscriber whose queue is full is dropped (its iteration ends; a browser reconnects and
reloads), so a slow one never holds up the others. When the connection is lost it is made
again, with a growing pause; every subscriber is then told ``EVERYTHING``, since notices
sent meanwhile are gone. The connection is made on the first subscription, not before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Self

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.desk import EVERYTHING, CalendarChange
from core.db.calendar_notices import CHANNEL, NoticedSpan, read_notice
from core.services.calendar_changes import CalendarChanges

log = logging.getLogger("salonbot.live")

Connect = Callable[[], Awaitable[Any]]  # a new asyncpg connection

ROOM = 100  # changes a subscriber may have waiting before it is dropped
MOST_PENDING = 10_000  # notices waiting to be mapped; past it: EVERYTHING
FIRST_PAUSE, LAST_PAUSE = 0.5, 30.0  # between attempts to reconnect
KEEPALIVE = 30.0  # an idle connection is asked to answer this often, within as long
SETTLE = 5.0  # how long a new subscription waits for the connection to listen


def connector(engine: AsyncEngine) -> Connect:
    """Connections to ``engine``'s database with the engine's own connection parameters,
    outside its pool (a listening connection is never given back)."""
    args, params = engine.dialect.create_connect_args(engine.url)

    async def connect() -> Any:
        return await asyncpg.connect(*args, timeout=10, **params)

    return connect


class Subscription:
    """One subscriber's changes, in order; iteration ends when it is ended."""

    def __init__(self, room: int) -> None:
        self._waiting: deque[CalendarChange] = deque()
        self._room = room
        self._wake = asyncio.Event()
        self.ended = False

    def offer(self, change: CalendarChange) -> None:
        if self.ended:
            return
        if len(self._waiting) >= self._room:
            self.end()  # too slow: dropped rather than hold up the others
            return
        self._waiting.append(change)
        self._wake.set()

    def end(self) -> None:
        self.ended = True
        self._wake.set()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> CalendarChange:
        while True:
            if self.ended:
                raise StopAsyncIteration
            if self._waiting:
                return self._waiting.popleft()
            self._wake.clear()
            await self._wake.wait()


class ConnectionLost(Exception):
    pass


class PostgresLiveChanges:
    def __init__(
        self,
        connect: Connect,
        changes: CalendarChanges,
        *,
        room: int = ROOM,
        keepalive: float = KEEPALIVE,
        first_pause: float = FIRST_PAUSE,
    ) -> None:
        self._connect = connect
        self._changes = changes
        self._room = room
        self._keepalive = keepalive
        self._first_pause = first_pause
        self._subscribers: set[Subscription] = set()
        self._pending: list[NoticedSpan] = []
        self._overflowed = False
        self._nudge = asyncio.Event()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._missed = False  # the connection was lost since it last listened
        self._heard = 0  # changes heard (and broadcast) since the process started

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def heard(self) -> int | None:
        return self._heard if self._listening.is_set() else None

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[CalendarChange]]:
        subscription = Subscription(self._room)
        if self._stopped:
            subscription.end()
            yield subscription
            return
        self._subscribers.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="salonbot live changes")
        try:
            # Changes committed once this returns reach the subscriber (unless the
            # database is away: then it hears EVERYTHING once it is back).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), SETTLE)
            yield subscription
        finally:
            self._subscribers.discard(subscription)
            subscription.end()

    def stop(self) -> None:
        """End every subscription now and take no more (the process is stopping); safe to
        call from a signal handler."""
        self._stopped = True
        for subscription in list(self._subscribers):
            subscription.end()
        self._nudge.set()

    async def close(self) -> None:
        self.stop()
        if self._task is not None:
            self._task.cancel()
            # Whatever ended it, closing goes on (the engine is disposed after this).
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _broadcast(self, change: CalendarChange) -> None:
        self._heard += 1
        for subscription in list(self._subscribers):
            subscription.offer(change)

    def _on_notice(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if len(self._pending) >= MOST_PENDING:
            self._overflowed = True
            self._pending.clear()
        self._pending.extend(read_notice(payload))
        self._nudge.set()

    async def _run(self) -> None:
        pause = self._first_pause
        while not self._stopped:
            connection = None
            try:
                connection = await self._connect()
                lost = asyncio.Event()
                connection.add_termination_listener(self._on_lost(lost))
                await connection.add_listener(CHANNEL, self._on_notice)
                self._listening.set()
                if self._missed:
                    log.info("live changes: listening again")
                    self._missed = False
                    self._pending.clear()
                    self._broadcast(EVERYTHING)
                pause = self._first_pause
                await self._watch(connection, lost)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    ConnectionLost) as error:  # fmt: skip
                if not self._missed:
                    log.warning(
                        "live changes: no connection to the database; trying again",
                        extra={"error": type(error).__name__},
                    )
                self._missed = True
            except Exception as error:
                # Anything else (a protocol error from a proxy in a failover, a bug) must
                # not end the feed for good: the pages would hear nothing until a restart.
                log.exception(
                    "live changes: the listener failed; trying again",
                    extra={"error": type(error).__name__},
                )
                self._missed = True
            finally:
                self._listening.clear()
                if connection is not None:
                    connection.terminate()
            if not self._stopped:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._until_stopped(), pause)
                pause = min(pause * 2, LAST_PAUSE)

    def _on_lost(self, lost: asyncio.Event) -> Callable[[object], None]:
        def on_lost(_: object) -> None:
            lost.set()
            self._nudge.set()

        return on_lost

    async def _until_stopped(self) -> None:
        while not self._stopped:
            self._nudge.clear()
            await self._nudge.wait()

    async def _watch(self, connection: Any, lost: asyncio.Event) -> None:
        """Deliver what is heard until the connection is lost (``ConnectionLost``) or the
        feed stops; an idle connection must answer every ``keepalive`` seconds (a network
        that drops packets silently never closes it)."""
        while not self._stopped:
            if lost.is_set() or connection.is_closed():
                raise ConnectionLost()
            if self._pending or self._overflowed:
                await self._deliver()
                continue
            self._nudge.clear()
            try:
                await asyncio.wait_for(self._nudge.wait(), self._keepalive)
            except TimeoutError:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self._keepalive)

    async def _deliver(self) -> None:
        spans, self._pending = self._pending, []
        if self._overflowed:
            self._overflowed = False
            self._broadcast(EVERYTHING)
            return
        try:
            changes = await self._changes.of(spans)
        except Exception as error:  # the database away, say: the pages reload it all
            log.warning("live changes: cannot map a change", extra={"error": type(error).__name__})
            changes = [EVERYTHING]
        for change in changes:
            self._broadcast(change)
