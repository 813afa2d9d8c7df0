"""Leadership on real Postgres: of several processes (here: several sessions, as Postgres
sees them) one leads a role at a time; another takes over when the leader stops, when
its session ends, and when it freezes (the server ends its silent session), and a leader
woken from a freeze finds its lease over before it could act."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.services.wakeup import Wakeup
from salonbot.leadership import LOCKS, Leadership, lease_clock, role_key
from salonbot.live import connector
from salonbot.shared_wakeup import OUTBOX_NOTICES, SharedWakeup
from tests.waiting import until


def quick(
    engine: AsyncEngine,
    name: str,
    *,
    check_every: float = 0.05,
    idle_limit: float = 3.0,
    listen: str | None = None,
    on_notice: Callable[[], None] | None = None,
) -> Leadership:
    """A leadership on its own sessions, at test speed: a try every ``check_every``, a
    beat every 0.2 s, the server's idle limit ``idle_limit`` (long enough that a busy test
    machine's loop does not pass for a frozen leader), 0.2 s settling."""
    return Leadership(
        connector(engine),
        name,
        listen=listen,
        on_notice=on_notice,
        check_every=check_every,
        beat_every=0.2,
        idle_limit=idle_limit,
        settle=0.2,
    )


@dataclass
class Terms:
    """What one process did while it led: the (start, end) of each term, and whether it
    held its lease whenever it looked."""

    leadership: Leadership
    spans: list[tuple[float, float]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def lead(self, ended: asyncio.Event) -> None:
        begun = time.monotonic()
        self.started.set()
        await ended.wait()
        self.spans.append((begun, time.monotonic()))


@asynccontextmanager
async def running(*leaderships: Leadership) -> AsyncIterator[list[Terms]]:
    terms = [Terms(leadership) for leadership in leaderships]
    tasks = [asyncio.create_task(t.leadership.run(t.lead)) for t in terms]
    try:
        yield terms
    finally:
        for leadership in leaderships:
            leadership.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


def role() -> str:
    return f"test:{uuid.uuid4().hex[:8]}"


async def _one_leads(terms: list[Terms]) -> Terms:
    async def someone() -> bool:
        return any(t.leadership.holds() for t in terms)

    await until(someone, "one of them leads", within=10)
    [leader] = [t for t in terms if t.leadership.holds()]
    return leader


async def _holder_pid(engine: AsyncEngine, name: str) -> int | None:
    async with engine.connect() as connection:
        pid = await connection.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :locks AND objid = :key AND objsubid = 2"
            ),
            {"locks": LOCKS, "key": role_key(name) & 0xFFFFFFFF},
        )
    return None if pid is None else int(pid)


def _never_overlap(terms: list[Terms]) -> None:
    spans = sorted(span for t in terms for span in t.spans)
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        assert first_end <= second_start, spans


async def test_one_leads_and_another_takes_over_when_it_stops(clean_engine: AsyncEngine) -> None:
    name = role()
    leaderships = [quick(clean_engine, name) for _ in range(3)]
    async with running(*leaderships) as terms:
        leader = await _one_leads(terms)
        assert sum(t.leadership.holds() for t in terms) == 1
        stopped_at = time.monotonic()
        leader.leadership.stop()
        others = [t for t in terms if t is not leader]
        successor = await _one_leads(others)
    assert leader.leadership.terms == 1
    # The successor began after the stopped leader's term ended (and after the stop).
    [(_, ended)] = leader.spans
    [(began, _)] = successor.spans
    assert stopped_at <= ended <= began
    assert successor.started.is_set()
    _never_overlap(terms)


class _Counting:
    """A real connection whose queries are counted (by their text)."""

    def __init__(self, connection: Any, asked: Counter[str]) -> None:
        self._connection = connection
        self._asked = asked

    async def fetchval(self, query: str, *args: Any) -> Any:
        self._asked[query] += 1
        return await self._connection.fetchval(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


async def test_a_stopping_leader_holds_the_lock_and_beats_at_its_pace_until_its_term_is_over(
    clean_engine: AsyncEngine,
) -> None:
    """A send in flight at the stop is finished before anyone else may send."""
    asked: Counter[str] = Counter()
    real = connector(clean_engine)

    async def counted() -> Any:
        return _Counting(await real(), asked)

    name = role()
    stopping = Leadership(
        counted, name, check_every=0.05, beat_every=0.2, idle_limit=3.0, settle=0.2
    )
    winding_down = 1.0

    async def lead(ended: asyncio.Event) -> None:
        await ended.wait()
        await asyncio.sleep(winding_down)  # a send finishing, then its record

    task = asyncio.create_task(stopping.run(lead))
    try:
        await until(_holds(stopping), "it leads")
        async with running(quick(clean_engine, name)) as [follower]:
            await until(_following(follower.leadership), "the other follows")
            beats_before = asked["SELECT 1"]
            stopped_at = time.monotonic()
            stopping.stop()
            await follower.started.wait()
            took = time.monotonic() - stopped_at
            beats = asked["SELECT 1"] - beats_before
    finally:
        stopping.stop()
        await asyncio.wait_for(task, 10)
    assert took >= winding_down
    assert beats <= winding_down / 0.2 + 2  # one every 0.2 s, not a loop


async def test_a_leader_whose_session_ends_stops_leading_at_once(
    clean_engine: AsyncEngine,
) -> None:
    name = role()
    # The first tries again only after a pause: the second, trying often, takes over.
    first = quick(clean_engine, name, check_every=0.9)
    second = quick(clean_engine, name)
    async with running(first) as [leader]:
        await _one_leads([leader])
        async with running(second) as [follower]:
            await until(_following(second), "the second follows")
            pid = await _holder_pid(clean_engine, name)
            assert pid is not None
            async with clean_engine.connect() as connection:  # a failover, an admin's kill
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            async def ended() -> bool:
                return bool(leader.spans) and not first.holds()

            await until(ended, "the first leader's term is over", within=5)
            await until(_holds(second), "the second leads", within=2)
    _never_overlap([leader, follower])


async def test_a_frozen_leader_is_replaced_and_wakes_up_without_its_lease(
    clean_engine: AsyncEngine,
) -> None:
    """The whole process freezes (here: this event loop, blocked). The server ends the
    leader's silent session after its idle limit, freeing the lock; the follower, whose
    own limit is longer, takes over. The woken leader's lease is over before any of its
    code runs again."""
    name = role()
    frozen = quick(clean_engine, name, check_every=0.9, idle_limit=1.0)
    patient = quick(clean_engine, name, idle_limit=5.0)
    async with running(frozen) as [leader]:
        await _one_leads([leader])
        async with running(patient) as [follower]:
            await until(_following(patient), "the second follows")
            time.sleep(1.5)  # noqa: ASYNC251 - the freeze itself: nothing runs meanwhile
            assert not frozen.holds()
            await until(_holds(patient), "the patient one leads", within=5)
            assert not frozen.holds()
    assert frozen.terms == 1
    _never_overlap([leader, follower])


async def test_a_reply_queued_in_another_process_wakes_the_leader(
    clean_engine: AsyncEngine,
) -> None:
    heard: list[float] = []
    leader = quick(
        clean_engine,
        role(),
        listen=OUTBOX_NOTICES,
        on_notice=lambda: heard.append(time.monotonic()),
    )
    leads_all = True
    elsewhere = SharedWakeup(clean_engine, Wakeup(), lambda: leads_all)
    async with running(leader) as [terms]:
        await _one_leads([terms])
        elsewhere.notify()
        assert elsewhere.told == 0  # a process leading every channel tells nobody else
        leads_all = False
        elsewhere.notify()
        await until(_heard(heard), "the leader hears the notice", within=5)
        await elsewhere.close()
    assert elsewhere.told == 1


def _heard(heard: list[float]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(heard)

    return check


def _holds(leadership: Leadership) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return leadership.holds()

    return check


def _following(leadership: Leadership) -> Callable[[], Awaitable[bool]]:
    """It has tried the lock and found it held."""

    async def check() -> bool:
        return leadership.following

    return check


async def test_a_stopped_leader_holds_no_more_at_once(clean_engine: AsyncEngine) -> None:
    """``stop`` ends the right to act then, not at the next beat."""
    leadership = quick(clean_engine, role(), idle_limit=3.0)
    async with running(leadership) as [terms]:
        await _one_leads([terms])
        leadership.stop()
        assert not leadership.holds()


class _SlowBeats:
    """A real connection whose beats (``SELECT 1``) answer late while ``slow`` is set."""

    def __init__(self, connection: Any, slow: asyncio.Event, delay: float) -> None:
        self._connection = connection
        self._slow = slow
        self._delay = delay

    async def fetchval(self, query: str, *args: Any) -> Any:
        if query == "SELECT 1" and self._slow.is_set():
            await asyncio.sleep(self._delay)
        return await self._connection.fetchval(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


async def test_a_slow_beat_within_the_lease_keeps_the_lead(clean_engine: AsyncEngine) -> None:
    """A beat answered later than a beat's interval (a busy server, a slow network) but
    within the lease is no loss."""
    slow = asyncio.Event()
    real = connector(clean_engine)

    async def slowed() -> Any:
        return _SlowBeats(await real(), slow, 0.8)

    leadership = Leadership(
        slowed, role(), check_every=0.05, beat_every=0.2, idle_limit=3.0, settle=0.2
    )
    async with running(leadership) as [terms]:
        await _one_leads([terms])
        slow.set()
        await asyncio.sleep(2.0)  # beats of 0.8 s, four times their interval
        assert leadership.holds()
        slow.clear()
    assert leadership.terms == 1
    assert len(terms.spans) == 1


def test_the_lease_clock_goes_on_through_a_suspend() -> None:
    """On Linux the leases count boot time, which a suspend does not stop."""
    if not hasattr(time, "CLOCK_BOOTTIME"):
        assert abs(lease_clock() - time.monotonic()) < 1.0
        return
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    now = lease_clock()
    assert before <= now <= time.clock_gettime(time.CLOCK_BOOTTIME)
    defaults = Leadership.__init__.__kwdefaults__
    assert defaults is not None
    assert defaults["monotonic"] is lease_clock
