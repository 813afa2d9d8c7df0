"""The staff web's in-memory desk and customer book keep the ports' contracts as the real
ones do (``tests/integration/test_front_desk.py`` and ``test_customer_book.py`` hold the
real ones to the same): the page tests that use them can trust what they answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from core.calendar.desk import NewCustomer, NoSuchLocalTime, NotAllowed, TimeOffNotFound
from core.calendar.ports import Role, StaffUser
from core.domain.booking import BookingStatus
from core.domain.errors import InvalidTransition, SlotTaken, TimeOffConflict
from tests.adapters.staff_web_harness import BERLIN, NOW, SERVICES, TODAY, demo_bookings
from tests.fakes.clock import FakeClock
from tests.fakes.staff_side import FakeCalendar, FakeCustomers, FakeDesk, FakeStaff

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
ANNA = StaffUser(2, "anna@salon.test", Role.STAFF, "anna", "ru")


def desk() -> FakeDesk:
    clock = FakeClock(NOW)
    staff = (FakeStaff("anna", "Anna"), FakeStaff("maria", "Maria", time(10), time(20)))
    calendar = FakeCalendar(clock, BERLIN, staff)
    customers = FakeCustomers(calendar)
    demo_bookings(calendar, customers)
    return FakeDesk(clock, calendar, customers, SERVICES)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 8, hour, minute, tzinfo=UTC)


async def test_a_walk_in_is_on_the_calendar_with_its_history() -> None:
    fake = desk()

    booking = await fake.walk_in(ANNA, "manicure", None, at(12), NewCustomer("Ben", "+4930"))

    assert (booking.staff_key, booking.status) == ("anna", BookingStatus.CONFIRMED)
    day = await fake.calendar.day(TODAY)
    assert booking.id in [b.id for b in day.columns[0].bookings]
    detail = await fake.booking(booking.id)
    assert [(h.action, h.actor) for h in detail.history] == [("booked", "anna@salon.test")]
    assert detail.customer is not None
    assert detail.customer.name == "Ben"


async def test_the_role_rule_holds() -> None:
    fake = desk()
    with pytest.raises(NotAllowed):
        await fake.walk_in(ANNA, "haircut", "maria", at(12), NewCustomer("Ben"))
    with pytest.raises(NotAllowed):
        await fake.cancel(ANNA, 2, "")  # Maria's
    with pytest.raises(NotAllowed):
        await fake.move(ANNA, 1, at(12), staff_key="maria")  # handing her own over
    with pytest.raises(NotAllowed):
        await fake.add_time_off(ANNA, "maria", at(12), at(13), "")
    moved = await fake.move(OWNER, 1, at(12), staff_key="maria")
    assert (moved.staff_key, moved.version) == ("maria", 2)
    assert fake.told == [(1, "rescheduled")]  # Olga chats on Telegram


async def test_a_taken_start_is_refused_with_alternatives_and_adds_no_customer() -> None:
    fake = desk()
    count = len(fake.customers.cards)

    with pytest.raises(SlotTaken) as refused:
        await fake.walk_in(OWNER, "manicure", "anna", at(9, 30), NewCustomer("Ben"))

    assert [a.start for a in refused.value.alternatives] == [at(10), at(10, 15), at(10, 30)]
    assert len(fake.customers.cards) == count


async def test_a_known_phone_is_the_known_customer_and_search_finds_by_name_or_digits() -> None:
    fake = desk()

    booking = await fake.walk_in(OWNER, "manicure", "anna", at(12), NewCustomer("O.", "4915100"))

    assert booking.customer_id != 1  # other digits: "+49 151 000000" has more
    again = await fake.walk_in(OWNER, "manicure", "anna", at(14), NewCustomer("O.", "49151000000"))
    assert again.customer_id == 1
    assert [c.name for c in await fake.customers.find("petr")] == ["Olga Petrova"]
    assert [c.name for c in await fake.customers.find("160 111")] == ["Jonas Weber"]
    assert await fake.customers.find("%") == []


async def test_time_off_is_shaded_refused_over_a_booking_and_removed() -> None:
    fake = desk()
    with pytest.raises(TimeOffConflict):
        await fake.add_time_off(ANNA, "anna", at(8), at(10), "")

    added = await fake.add_time_off(ANNA, "anna", at(12), at(13), "Dentist")

    assert [s.reason for s in await fake.time_off("anna", at(0), at(23))] == ["Dentist"]
    await fake.remove_time_off(ANNA, added)
    assert await fake.time_off("anna", at(0), at(23)) == []
    with pytest.raises(TimeOffNotFound):
        await fake.remove_time_off(ANNA, added)


async def test_cancelled_visits_leave_the_calendar_and_count_in_the_customers_visits() -> None:
    fake = desk()

    await fake.cancel(ANNA, 1, "ill")

    assert (await fake.calendar.day(TODAY)).columns[0].bookings == ()
    visits = await fake.customers.visits(1)
    assert (visits.cancelled, [v.status for v in visits.visits]) == (
        1,
        [BookingStatus.CANCELLED],
    )
    with pytest.raises(InvalidTransition):
        await fake.mark(ANNA, 1, BookingStatus.NO_SHOW)


async def test_instant_follows_the_zone_and_refuses_the_spring_gap() -> None:
    fake = desk()
    with pytest.raises(NoSuchLocalTime):
        await fake.instant(date(2027, 3, 28), time(2, 30))
    assert await fake.instant(TODAY, time(10)) == at(9)
