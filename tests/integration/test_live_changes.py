"""The staff calendar's live feed on Postgres: a change committed anywhere (another
connection, another engine) reaches every subscriber as the staff key and the salon's local
days, through one listening connection that comes back after the database drops it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.desk import EVERYTHING, CalendarChange
from core.catalog.file import load_catalog_text
from core.domain.booking import Actor
from core.domain.timeline import Interval
from core.services.calendar_changes import CalendarChanges
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.live import PostgresLiveChanges, connector
from tests.catalog_cases import edited, put
from tests.fakes.tcp_proxy import CuttableLink, link_target, through

OWNER = Actor.staff("owner@salon.test")
MONDAY, TUESDAY = date(2026, 12, 7), date(2026, 12, 8)
WITHIN = 10.0


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def next_change(changes: AsyncIterator[CalendarChange]) -> CalendarChange:
    return await asyncio.wait_for(anext(changes), WITHIN)


@pytest.fixture
async def elsewhere(app: Salonbot, database_url: str) -> AsyncIterator[Salonbot]:
    """The same salon through an engine of its own: another process, as far as the
    listening connection can tell."""
    other = Salonbot(make_engine(database_url, pool_size=2), app.clock)
    yield other
    await other.close()


@pytest.fixture
async def live(app: Salonbot) -> AsyncIterator[PostgresLiveChanges]:
    yield app.live
    await app.live.close()


async def test_a_booking_made_elsewhere_arrives_with_its_staff_and_local_day(
    live: PostgresLiveChanges, elsewhere: Salonbot
) -> None:
    async with live.listen() as changes:
        await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")

        assert await next_change(changes) == CalendarChange("maria", (MONDAY,))


async def test_what_was_heard_is_counted_while_listening(
    live: PostgresLiveChanges, elsewhere: Salonbot
) -> None:
    assert live.heard() is None  # not listening yet: a page drawn now cannot tell
    async with live.listen() as changes:
        before = live.heard()
        assert before is not None
        await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
        await next_change(changes)

        assert live.heard() == before + 1


async def test_a_move_names_the_day_it_left_and_the_day_it_reached(
    live: PostgresLiveChanges, elsewhere: Salonbot
) -> None:
    booked = await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
    async with live.listen() as changes:
        await elsewhere.bookings.reschedule(booked.id, utc(8, 9), OWNER)

        assert await next_change(changes) == CalendarChange("maria", (MONDAY, TUESDAY))


async def test_a_cancellation_arrives_too(live: PostgresLiveChanges, elsewhere: Salonbot) -> None:
    booked = await elsewhere.bookings.book("manicure", utc(8, 9), OWNER, staff_key="maria")
    async with live.listen() as changes:
        await elsewhere.bookings.cancel(booked.id, OWNER)

        assert await next_change(changes) == CalendarChange("maria", (TUESDAY,))


async def test_a_visit_across_local_midnight_names_both_local_days(
    app: Salonbot, live: PostgresLiveChanges, elsewhere: Salonbot
) -> None:
    # Maria works Saturday 18:00 to Sunday 02:00, Berlin (UTC+1): 23:30 local is 22:30 UTC.
    night = [{"from": "18:00", "to": "02:00"}]
    document, _ = load_catalog_text(edited(put("staff", 1, "hours", "sat", value=night)))
    await load_catalog(app.uow, app.clock, document)
    async with live.listen() as changes:
        await elsewhere.bookings.book("manicure", utc(12, 22, 30), OWNER, staff_key="maria")
        across = await next_change(changes)
        # 00:30 on Sunday: on Sunday's grid, and on Saturday's, whose night shift runs on.
        await elsewhere.bookings.book("manicure", utc(12, 23, 45), OWNER, staff_key="maria")
        after_midnight = await next_change(changes)

    saturday, sunday = date(2026, 12, 12), date(2026, 12, 13)
    assert across == CalendarChange("maria", (saturday, sunday))
    assert after_midnight == CalendarChange("maria", (saturday, sunday))


async def test_time_off_added_and_removed_arrives(
    live: PostgresLiveChanges, elsewhere: Salonbot, clean_engine: AsyncEngine
) -> None:
    span = Interval(utc(8, 12), utc(10, 12))  # Tuesday to Thursday
    async with live.listen() as changes:
        time_off = await elsewhere.add_time_off("olga", span, OWNER, "dentist")
        added = await next_change(changes)
        async with clean_engine.begin() as connection:
            await connection.execute(text("DELETE FROM time_off WHERE id = :id"), {"id": time_off})
        removed = await next_change(changes)

    three_days = (TUESDAY, TUESDAY + timedelta(days=1), TUESDAY + timedelta(days=2))
    assert added == removed == CalendarChange("olga", three_days)


async def test_a_rolled_back_change_is_never_announced(
    live: PostgresLiveChanges, elsewhere: Salonbot, clean_engine: AsyncEngine
) -> None:
    async with live.listen() as changes:
        async with clean_engine.connect() as connection:
            await connection.execute(
                text("INSERT INTO time_off (staff_id, starts_at, ends_at) SELECT id, "
                     "'2026-12-08 10:00Z', '2026-12-08 11:00Z' FROM staff WHERE key = 'anna'")
            )  # fmt: skip
            await connection.rollback()
        await elsewhere.bookings.book("manicure", utc(8, 9), OWNER, staff_key="maria")

        assert await next_change(changes) == CalendarChange("maria", (TUESDAY,))


async def test_every_subscriber_hears_through_one_connection(
    app: Salonbot, elsewhere: Salonbot
) -> None:
    made: list[object] = []
    connect = connector(app.engine)

    async def counted() -> Any:
        connection = await connect()
        made.append(connection)
        return connection

    live = PostgresLiveChanges(counted, CalendarChanges(app.uow, app.catalogs))
    try:
        async with live.listen() as first, live.listen() as second, live.listen() as third:
            await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
            heard = [await next_change(c) for c in (first, second, third)]
    finally:
        await live.close()

    assert heard == [CalendarChange("maria", (MONDAY,))] * 3
    assert len(made) == 1


async def test_a_slow_subscriber_is_dropped_and_the_others_hear_everything(
    app: Salonbot, elsewhere: Salonbot
) -> None:
    live = PostgresLiveChanges(
        connector(app.engine), CalendarChanges(app.uow, app.catalogs), room=2
    )
    try:
        async with live.listen() as slow, live.listen() as quick:
            heard = []
            for hour in (8, 9, 10, 11):
                half_hour = Interval(utc(8, hour), utc(8, hour, 30))
                await elsewhere.add_time_off("maria", half_hour, OWNER)
                heard.append(await next_change(quick))
            left = [change async for change in slow]
    finally:
        await live.close()

    assert heard == [CalendarChange("maria", (TUESDAY,))] * 4
    assert left == []  # dropped once three waited: its iteration ended


async def test_after_the_database_drops_the_connection_subscribers_reload_everything(
    app: Salonbot, elsewhere: Salonbot, database_url: str
) -> None:
    async with CuttableLink(*link_target(database_url)) as link:
        engine = make_engine(through(database_url, link), pool_size=2)
        live = PostgresLiveChanges(
            connector(engine), CalendarChanges(app.uow, app.catalogs), first_pause=0.05
        )
        try:
            async with live.listen() as changes:
                assert live.listening
                await link.cut()
                await link.restore()
                assert await next_change(changes) == EVERYTHING
                await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
                assert await next_change(changes) == CalendarChange("maria", (MONDAY,))
        finally:
            await live.close()
            await engine.dispose()


async def test_a_connection_that_stops_answering_is_given_up_and_made_again(
    app: Salonbot, elsewhere: Salonbot, database_url: str
) -> None:
    async with CuttableLink(*link_target(database_url)) as link:
        engine = make_engine(through(database_url, link), pool_size=2)
        live = PostgresLiveChanges(
            connector(engine), CalendarChanges(app.uow, app.catalogs), keepalive=0.2
        )
        try:
            async with live.listen() as changes:
                link.freeze()  # open, silent: no reset ever comes
                assert await next_change(changes) == EVERYTHING
                await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
                assert await next_change(changes) == CalendarChange("maria", (MONDAY,))
        finally:
            await live.close()
            await engine.dispose()


async def test_an_unexpected_failure_of_the_listener_does_not_end_the_feed(
    app: Salonbot, elsewhere: Salonbot
) -> None:
    connect = connector(app.engine)
    calls = 0

    async def fails_once() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # a proxy answering nonsense in a failover, say
            raise asyncpg.ProtocolError("unexpected message from the server")
        return await connect()

    live = PostgresLiveChanges(fails_once, CalendarChanges(app.uow, app.catalogs), first_pause=0.05)
    async with live.listen() as changes:
        assert await next_change(changes) == EVERYTHING
        await elsewhere.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
        assert await next_change(changes) == CalendarChange("maria", (MONDAY,))
    await live.close()  # never raises what ended the listener

    assert calls == 2


async def test_stopping_ends_every_subscription_at_once_and_takes_no_more(
    live: PostgresLiveChanges,
) -> None:
    async with live.listen() as changes:
        waiting = asyncio.ensure_future(anext(changes, None))
        await asyncio.sleep(0)
        live.stop()
        assert await asyncio.wait_for(waiting, WITHIN) is None
    async with live.listen() as later:
        assert [change async for change in later] == []
    assert live.subscribers == 0
