"""The customer book on Postgres: customers found by any part of their name in any case or
by the digits of their phone, the user's LIKE wildcards taken literally, bounded input;
a customer's visits newest first with their counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.calendar.desk import MAX_SEARCH, CustomerNotFound, EntryRefused, NewCustomer
from core.calendar.ports import Role, StaffUser
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor, BookingStatus
from core.services.customer_book import MAX_FOUND
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def add(app: Salonbot, name: str, phone: str | None = None) -> int:
    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(
            name, app.clock.now(), phone=phone
        )
        await uow.commit()
    return customer_id


async def names(app: Salonbot, text: str, limit: int = 20) -> list[str]:
    return [c.name for c in await app.customer_book.find(text, limit)]


async def test_a_customer_is_found_by_part_of_their_name_in_any_case(app: Salonbot) -> None:
    await add(app, "Olga Petrova", "+49 151 000000")
    await add(app, "Пётр Ольгин")
    await add(app, "Jonas Weber")

    assert await names(app, "olga") == ["Olga Petrova"]
    assert await names(app, "PETR") == ["Olga Petrova"]
    assert await names(app, "ольг") == ["Пётр Ольгин"]
    assert await names(app, "nobody") == []


async def test_names_that_start_with_the_text_come_first(app: Salonbot) -> None:
    await add(app, "Anna Berg")
    await add(app, "Hanna Meier")
    await add(app, "Annabel Lee")

    assert await names(app, "ann") == ["Anna Berg", "Annabel Lee", "Hanna Meier"]


async def test_a_customer_is_found_by_the_digits_of_their_phone_however_written(
    app: Salonbot,
) -> None:
    olga = await add(app, "Olga", "+49 (151) 000-123")
    await add(app, "Jonas", "+49 160 111111")

    found = await app.customer_book.find("151 000 1")

    assert [c.id for c in found] == [olga]
    assert found[0].phone == "+49 (151) 000-123"
    # Two digits match half the book: such a text is looked for in names only.
    assert await names(app, "49") == []


@pytest.mark.parametrize("wildcard", ["%", "_", "\\"])
async def test_like_wildcards_in_the_text_are_taken_literally(app: Salonbot, wildcard: str) -> None:
    await add(app, "Plain Name")
    await add(app, f"Odd{wildcard}Name")

    assert await names(app, wildcard) == [f"Odd{wildcard}Name"]
    assert await names(app, f"d{wildcard}N") == [f"Odd{wildcard}Name"]


async def test_blank_text_finds_nobody_and_long_text_is_refused(app: Salonbot) -> None:
    await add(app, "Anna")

    assert await names(app, "   ") == []
    with pytest.raises(EntryRefused) as refused:
        await app.customer_book.find("a" * (MAX_SEARCH + 1))
    assert (refused.value.field, refused.value.problem) == ("search", "too_long")


async def test_the_number_found_is_bounded(app: Salonbot) -> None:
    for n in range(MAX_FOUND + 5):
        await add(app, f"Guest {n:03d}")

    assert len(await names(app, "guest", limit=5)) == 5
    assert len(await names(app, "guest", limit=10_000)) == MAX_FOUND
    assert await names(app, "guest", limit=0) == []


async def test_a_customers_visits_come_newest_first_with_their_counts(
    app: Salonbot, clock: FakeClock
) -> None:
    desk = app.front_desk
    first = await desk.walk_in(OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada", "+4930"))
    customer = first.customer_id
    assert customer is not None
    second = await desk.walk_in(OWNER, "pedicure", "maria", utc(8, 13), customer)
    third = await desk.walk_in(OWNER, "brow-shaping", "maria", utc(9, 9), customer)
    fourth = await desk.walk_in(OWNER, "manicure", "olga", utc(9, 15), customer)
    await desk.cancel(OWNER, third.id, "")
    clock.set(utc(8, 15))
    await desk.mark(OWNER, first.id, BookingStatus.COMPLETED)
    await desk.mark(OWNER, second.id, BookingStatus.NO_SHOW)

    visits = await app.customer_book.visits(customer)

    assert (visits.customer.id, visits.customer.name, visits.customer.phone) == (
        customer,
        "Ada",
        "+4930",
    )
    assert [(v.booking_id, v.service_name, v.staff_name, v.status) for v in visits.visits] == [
        (fourth.id, "Manicure", "Olga", BookingStatus.CONFIRMED),
        (third.id, "Brow shaping", "Maria", BookingStatus.CANCELLED),
        (second.id, "Pedicure", "Maria", BookingStatus.NO_SHOW),
        (first.id, "Manicure", "Maria", BookingStatus.COMPLETED),
    ]
    assert (visits.completed, visits.cancelled, visits.no_shows) == (1, 1, 1)
    assert visits.zone.key == "Europe/Berlin"


async def test_holds_let_go_in_chat_are_no_visits(app: Salonbot, clock: FakeClock) -> None:
    customer = await add(app, "Ada")
    ada = Actor.customer(customer)
    released = await app.bookings.hold("manicure", utc(8, 9), ada, customer_id=customer)
    await app.bookings.cancel(released.id, ada)
    await app.bookings.hold("manicure", utc(8, 13), ada, customer_id=customer)
    clock.set(utc(8, 8))  # the second hold lapses
    await app.bookings.book("pedicure", utc(9, 9), ada, customer_id=customer)

    visits = await app.customer_book.visits(customer)

    assert [v.service_name for v in visits.visits] == ["Pedicure"]
    assert (visits.completed, visits.cancelled, visits.no_shows) == (0, 0, 0)


async def test_a_search_with_a_nul_is_refused(app: Salonbot) -> None:
    with pytest.raises(EntryRefused) as refused:
        await app.customer_book.find("ab\x00c")
    assert refused.value.problem == "bad_character"


async def test_an_unknown_customer_has_no_visits(app: Salonbot) -> None:
    with pytest.raises(CustomerNotFound):
        await app.customer_book.visits(999)
