"""Leadership: the one process, of several ``salonbot serve`` on one database, that does a
job which must run once: a channel's outbox dispatcher (its pacing lives in its memory)
and Telegram's long polling (Telegram answers 409 to a second ``getUpdates``).

Every process keeps a connection of its own for each role (outside the pool) and tries a
session-level advisory lock on it every ``check_every`` seconds; the process holding the
lock leads until its session ends, which frees the lock:

* a process that exits or is killed: its socket closes, Postgres ends the session at once;
* a process that hangs (frozen, its event loop stuck, its network gone): its session is
  silent, and Postgres ends it after ``idle_limit`` seconds (``idle_session_timeout``,
  Postgres 14 or later), which is why the leader asks its connection something every
  ``beat_every`` seconds;
* a database restart or failover ends every session.

A leader acts only while ``holds()``: within a lease that ends ``beat_every`` seconds
before the server could end its silent session, counted from the start of the last query
the server answered, so a leader that wakes from a freeze finds its lease over before
doing anything. A new leader waits ``settle`` seconds before it acts, so the previous
leader's last sends are at least that old (the platforms' limits count per second).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

from core.services.outage import Outage, describe
from salonbot.live import Connect

log = logging.getLogger("salonbot.leadership")

LOCKS = 0x5A1EAD  # the first key of salonbot's leadership locks; the second: the role's
CHECK_EVERY = 1.0  # a follower tries the lock this often (seconds)
BEAT_EVERY = 2.0  # a leader's connection answers this often
IDLE_LIMIT = 8.0  # the server ends a session silent this long (a hung leader's)
SETTLE = 1.0  # a new leader waits this long before it acts
CLOSE_WITHIN = 2.0  # a session ended at stop answers its goodbye within this

Lead = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def lease_clock() -> float:
    """The leases' clock: seconds that go on while the machine is suspended (Linux's
    ``CLOCK_BOOTTIME``; ``time.monotonic`` stops then, and a leader woken from a suspend
    would think its lease still good while the server has long ended its session)."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


def role_key(role: str) -> int:
    """The second key of ``role``'s lock: its CRC-32 as a signed 32-bit integer."""
    crc = zlib.crc32(role.encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


async def open_session(connect: Connect, idle_limit: float) -> Any:
    """A connection whose session Postgres ends after ``idle_limit`` silent seconds (from
    Postgres 14; before, ``idle_session_timeout`` does not exist and the session lasts)."""
    connection = await connect()
    try:
        if connection.get_server_version().major >= 14:
            await connection.execute(f"SET idle_session_timeout = {round(idle_limit * 1000)}")
    except BaseException:
        connection.terminate()
        raise
    return connection


class LostSession(Exception):
    """The leadership's session ended, or stopped answering."""


class Leadership:
    """One role; ``run(lead)`` follows, and leads whenever this process holds its lock.

    ``on_notice``: while leading, each notification on Postgres channel ``listen`` calls it
    (another process asking the leader to look at the outbox now).
    """

    def __init__(
        self,
        connect: Connect,
        role: str,
        *,
        listen: str | None = None,
        on_notice: Callable[[], None] | None = None,
        check_every: float = CHECK_EVERY,
        beat_every: float = BEAT_EVERY,
        idle_limit: float = IDLE_LIMIT,
        settle: float = SETTLE,
        monotonic: Callable[[], float] = lease_clock,
    ) -> None:
        if max(beat_every, check_every, settle) >= idle_limit:
            raise ValueError("every session must speak more often than the server's idle limit")
        self.role = role
        self._connect = connect
        self._key = role_key(role)
        self._listen = listen
        self._on_notice = on_notice
        self._check_every = check_every
        self._beat_every = beat_every
        self._idle_limit = idle_limit
        self._lease = idle_limit - beat_every
        self._settle = settle
        self._monotonic = monotonic
        self._stopping = asyncio.Event()
        self._leading = False
        self._lease_until = float("-inf")
        self.terms = 0  # how many times this process has led (tests, logs)
        self.following = False  # it tried the lock and another process held it
        self._told_old = False
        self.outage = Outage(log, f"leadership ({role})")

    def holds(self) -> bool:
        """This process leads, within a lease the server has not ended, and is not
        stopping: act only now."""
        return (
            self._leading and not self._stopping.is_set() and self._monotonic() < self._lease_until
        )

    def stop(self) -> None:
        """Lead no more: the term winds down, then the lock is let go; ``run`` returns."""
        self._stopping.set()

    async def run(self, lead: Lead) -> None:
        """Until ``stop``: follow, and while holding the lock run ``lead(ended)``, which
        does the role until ``ended`` is set, then winds down and returns. A database
        that fails is told to ``outage`` once and tried again, never the end of it."""
        while not self._stopping.is_set():
            connection = None
            try:
                connection = await open_session(self._connect, self._idle_limit)
                self._tell_if_old(connection)
                lost = asyncio.Event()
                connection.add_termination_listener(_setter(lost))
                if await self._follow(connection, lost):
                    await self._lead(connection, lost, lead)
            except Exception as error:
                self.outage.failed(error)
            finally:
                if connection is not None:
                    await _close(connection)
            await self._until(self._check_every)

    def _tell_if_old(self, connection: Any) -> None:
        if connection.get_server_version().major < 14 and not self._told_old:
            self._told_old = True
            log.warning(
                "leadership: Postgres before 14 has no idle_session_timeout: a hung leader "
                "is replaced only once it wakes or its connection breaks",
                extra={"role": self.role},
            )

    async def _follow(self, connection: Any, lost: asyncio.Event) -> bool:
        """Try the lock until it is this process's (True) or it stops (False)."""
        told = False
        while not self._stopping.is_set():
            if lost.is_set():
                raise LostSession("the session ended")
            asked = self._monotonic()
            taken = await asyncio.wait_for(
                connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCKS, self._key),
                self._lease,
            )
            self.outage.succeeded()
            self.following = not taken
            if taken:
                self._lease_until = asked + self._lease
                return True
            if not told:
                log.info("following: another process leads", extra={"role": self.role})
                told = True
            await self._until(self._check_every, lost)
        return False

    async def _lead(self, connection: Any, lost: asyncio.Event, lead: Lead) -> None:
        ended = asyncio.Event()
        term: asyncio.Task[None] | None = None
        self.terms += 1
        log.info("leading", extra={"role": self.role})
        try:
            if self._listen is not None and self._on_notice is not None:
                notice = self._on_notice
                await connection.add_listener(self._listen, lambda *_: notice())
            # The previous leader's last acts are at least this old before this one acts.
            await self._until(self._settle)
            if not (self._stopping.is_set() or lost.is_set()):
                self._leading = True
                term = asyncio.create_task(lead(ended), name=f"salonbot lead {self.role}")
                await self._keep(connection, lost, ended, term)
        finally:
            self._leading = False
            ended.set()
            if term is not None:
                try:
                    # The term winds down (a send in flight is finished and recorded) while
                    # the lock is still held: nobody else acts meanwhile.
                    await asyncio.shield(term)
                except asyncio.CancelledError:
                    term.cancel()
                    await asyncio.gather(term, return_exceptions=True)
                    raise
                except Exception:
                    log.exception("leadership: the role failed", extra={"role": self.role})

    async def _keep(
        self, connection: Any, lost: asyncio.Event, ended: asyncio.Event, term: asyncio.Task[None]
    ) -> None:
        """Beat until the term is over. Leading ends at ``stop``, when the session is lost
        or when the lease ran out (the process stalled); the term is then told to wind
        down, and the beats go on meanwhile, unless the session is gone."""
        unanswered: str | None = None
        while not term.done():
            over = self._stopping.is_set() or lost.is_set() or not self.holds()
            if over and not ended.is_set():
                self._leading = False
                ended.set()
                if not self._stopping.is_set():
                    why = "its lease ran out (the process stalled)"
                    if lost.is_set():
                        why = unanswered or "its session ended"
                    log.warning("leadership lost", extra={"role": self.role, "why": why})
            if lost.is_set():
                await asyncio.wait([term])
                return
            # Not cut short by ``stop``: a term winding down is still beaten for.
            await self._until(self._beat_every, lost, term, at_stop=False)
            if term.done() or lost.is_set():
                continue
            asked = self._monotonic()
            # A slow answer is no loss while the lease lasts: the beat may take what is
            # left of it (a term winding down, a whole lease). Leading ends by ``holds``.
            within = self._lease_until - asked if self._leading else self._lease
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), max(within, 0.0))
            except Exception as error:
                # The session is over for this process: the server ends it, or has (a
                # database that is away shows when the next session is opened).
                unanswered = f"its session did not answer: {describe(error)}"
                lost.set()
                continue
            if self._leading:
                self._lease_until = asked + self._lease

    async def _until(
        self, seconds: float, *more: asyncio.Event | asyncio.Task[None], at_stop: bool = True
    ) -> None:
        """Wait ``seconds`` at most: less once one of ``more`` happens, or (``at_stop``)
        once stopped."""
        ends = [self._stopping, *more] if at_stop else list(more)
        if any(_done(end) for end in ends):
            return
        waits = [asyncio.ensure_future(m.wait()) for m in ends if isinstance(m, asyncio.Event)]
        tasks = [m for m in more if isinstance(m, asyncio.Task)]
        try:
            if waits or tasks:
                await asyncio.wait([*waits, *tasks], timeout=seconds, return_when="FIRST_COMPLETED")
            else:
                await asyncio.sleep(seconds)
        finally:
            for waiting in waits:
                waiting.cancel()


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    """A termination listener that sets ``event`` (this session's, never a later one's)."""
    return lambda _: event.set()


def _done(event_or_task: asyncio.Event | asyncio.Task[None]) -> bool:
    if isinstance(event_or_task, asyncio.Event):
        return event_or_task.is_set()
    return event_or_task.done()


async def _close(connection: Any) -> None:
    """End the session (which lets its lock go); a connection that does not answer is
    dropped, and the server ends it on its own."""
    if connection.is_closed():
        return
    try:
        await asyncio.wait_for(connection.close(), CLOSE_WITHIN)
    except Exception:
        connection.terminate()
