"""Races on a real Postgres server: concurrent transactions on separate connections.

Each racer is a full use-case call with its own connection and transaction; they are all
started together and interleave inside the server. Nothing here is mocked.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.booking_repository import BookingRepository, NewBooking, SlotConflict
from core.domain.availability import find_slot
from core.domain.booking import Actor, Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import SlotTaken
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock
from tests.waiting import waiting_for_a_lock

pytestmark = pytest.mark.race

TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
STAFF = Actor.staff("front-desk")

THREE_STYLISTS = """
salon: {name: Race, timezone: Europe/Berlin, languages: [en], currency: EUR}
policies: {min_notice: 0m, slot_step: 15m}
services:
  - {id: cut, name: {en: Cut}, duration: 45m, price: 30, buffer_after: 15m}
staff:
  - {id: ann, name: Ann, services: [cut], hours: {tue: ["09:00-18:00"]}}
  - {id: bea, name: Bea, services: [cut], hours: {tue: ["09:00-18:00"]}}
  - {id: cat, name: Cat, services: [cut], hours: {tue: ["09:00-18:00"]}}
"""


async def _gather(*calls: Awaitable[object]) -> list[object]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def _overlapping_active_pairs(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(
                    text(
                        """
                        SELECT count(*) FROM bookings a JOIN bookings b
                          ON a.id < b.id AND a.staff_id = b.staff_id
                         AND tstzrange(a.blocked_from, a.blocked_until)
                             && tstzrange(b.blocked_from, b.blocked_until)
                        WHERE a.status IN ('held', 'confirmed')
                          AND b.status IN ('held', 'confirmed')
                        """
                    )
                )
            ).scalar_one()
        )


def _unexpected(results: list[object]) -> list[object]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, SlotTaken)]


async def test_fifty_racers_for_one_slot_give_one_booking_and_49_slot_taken(
    app: Salonbot,
) -> None:
    results = await _gather(
        *(app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria") for _ in range(50))
    )

    assert _unexpected(results) == []
    winners = [r for r in results if isinstance(r, Booking)]
    losers = [r for r in results if isinstance(r, SlotTaken)]
    assert (len(winners), len(losers)) == (1, 49)
    assert all(loser.alternatives for loser in losers)
    assert await _overlapping_active_pairs(app.engine) == 0


async def test_fifty_racers_with_overlapping_starts_never_overlap(app: Salonbot) -> None:
    # 09:00 to 10:45 local on a 15-minute grid: a 60-minute manicure overlaps its neighbours.
    nine = TUESDAY_11 - timedelta(hours=2)
    starts = [nine + timedelta(minutes=15 * (i % 8)) for i in range(50)]

    results = await _gather(
        *(app.bookings.book("manicure", start, STAFF, staff_key="maria") for start in starts)
    )

    assert _unexpected(results) == []
    winners = [r for r in results if isinstance(r, Booking)]
    assert 1 <= len(winners) <= 2  # 09:00-10:10 and 10:15-11:25 at most
    assert await _overlapping_active_pairs(app.engine) == 0


async def test_any_staff_with_three_free_and_ten_racers_books_each_once(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    app = Salonbot(clean_engine, clock)
    document, _ = load_catalog_text(THREE_STYLISTS)
    await load_catalog(app.uow, clock, document)

    results = await _gather(*(app.bookings.book("cut", TUESDAY_11, STAFF) for _ in range(10)))

    assert _unexpected(results) == []
    winners = [r for r in results if isinstance(r, Booking)]
    assert sorted(w.staff_key for w in winners) == ["ann", "bea", "cat"]
    assert sum(isinstance(r, SlotTaken) for r in results) == 7


async def test_a_reschedule_racing_a_new_booking_has_one_winner_and_loses_nothing(
    app: Salonbot,
) -> None:
    outcomes: Counter[str] = Counter()
    for _ in range(10):
        day = TUESDAY_11
        mine = await app.bookings.book("manicure", day, STAFF, staff_key="maria")
        target = day + timedelta(hours=3)

        moved, other = await _gather(
            app.bookings.reschedule(mine.id, target, STAFF),
            app.bookings.book("manicure", target, STAFF, staff_key="maria"),
        )

        assert _unexpected([moved, other]) == []
        assert isinstance(moved, Booking) != isinstance(other, Booking), (moved, other)
        async with app.uow() as uow:
            current = await BookingRepository(uow.connection).get(mine.id)
        assert current is not None
        assert current.status is BookingStatus.CONFIRMED
        assert current.start == (target if isinstance(moved, Booking) else day)
        outcomes["reschedule" if isinstance(moved, Booking) else "new booking"] += 1
        assert await _overlapping_active_pairs(app.engine) == 0
        # Free the day for the next round.
        await app.bookings.cancel(mine.id, STAFF)
        if isinstance(other, Booking):
            await app.bookings.cancel(other.id, STAFF)
    assert sum(outcomes.values()) == 10


async def test_the_exclusion_constraint_alone_refuses_overlaps(app: Salonbot) -> None:
    """Bypass the lock and the re-check: the database still refuses the second booking."""
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    slot = find_slot(catalog, "manicure", "maria", TUESDAY_11, app.clock.now(), ())
    assert slot is not None
    new = NewBooking(
        None, "manicure", slot, BookingStatus.CONFIRMED, catalog.services["manicure"].price, None
    )

    async def insert_without_lock() -> int:
        async with app.uow() as uow:
            repository = BookingRepository(uow.connection)
            staff_id = (await repository.staff_ids(["maria"]))["maria"]
            booking_id = await repository.add(new, staff_id, app.clock.now())
            await uow.commit()
            return booking_id

    results = await _gather(*(insert_without_lock() for _ in range(10)))

    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, SlotConflict) for r in results) == 9
    # A cancelled booking no longer occupies the time: the constraint covers active ones only.
    async with app.uow() as uow:
        await uow.connection.execute(text("UPDATE bookings SET status = 'cancelled'"))
        await uow.commit()
    assert isinstance(await insert_without_lock(), int)


async def test_a_catalog_load_waits_for_a_booking_in_flight_and_then_counts_it(
    app: Salonbot,
) -> None:
    """A booking holding Olga's lock commits while a load that removes Olga waits."""
    from core.catalog.file import load_catalog_text as parse
    from core.domain.errors import CatalogRemovalRefused
    from tests.conftest import EXAMPLE_CATALOG

    text_without_olga = EXAMPLE_CATALOG.read_text(encoding="utf-8").split("  - id: olga")[0]
    document, _ = parse(text_without_olga)
    wednesday_11 = TUESDAY_11 + timedelta(days=1)
    async with app.uow() as in_flight:
        repository = BookingRepository(in_flight.connection)
        staff_ids = await repository.lock_staff(["olga"])
        catalog = await app.catalogs.current(in_flight.connection)
        slot = find_slot(catalog, "lash-lift", "olga", wednesday_11, app.clock.now(), ())
        assert slot is not None

        load = asyncio.create_task(load_catalog(app.uow, app.clock, document))
        await waiting_for_a_lock(app.engine)
        assert not load.done()  # it waits for Olga's row

        new = NewBooking(
            None, "lash-lift", slot, BookingStatus.CONFIRMED, slot_price(catalog), None
        )
        await repository.add(new, staff_ids["olga"], app.clock.now())
        await in_flight.commit()

    with pytest.raises(CatalogRemovalRefused, match="olga"):
        await load


def slot_price(catalog: Catalog) -> Decimal:
    return catalog.services["lash-lift"].price


async def test_time_off_waits_for_a_booking_in_flight_and_then_sees_it(app: Salonbot) -> None:
    """A booking holding Maria's lock commits while time off over its slot waits."""
    from core.domain.errors import TimeOffConflict
    from core.domain.timeline import Interval

    async with app.uow() as in_flight:
        repository = BookingRepository(in_flight.connection)
        staff_ids = await repository.lock_staff(["maria"])
        catalog = await app.catalogs.current(in_flight.connection)
        slot = find_slot(catalog, "manicure", "maria", TUESDAY_11, app.clock.now(), ())
        assert slot is not None
        span = Interval(TUESDAY_11, TUESDAY_11 + timedelta(hours=1))

        time_off = asyncio.create_task(app.add_time_off("maria", span, STAFF, "dentist"))
        await waiting_for_a_lock(app.engine)
        assert not time_off.done()  # it waits for Maria's row

        price = catalog.services["manicure"].price
        new = NewBooking(None, "manicure", slot, BookingStatus.CONFIRMED, price, None)
        booking_id = await repository.add(new, staff_ids["maria"], app.clock.now())
        await in_flight.commit()

    with pytest.raises(TimeOffConflict) as conflict:
        await time_off
    assert conflict.value.booking_ids == (booking_id,)
