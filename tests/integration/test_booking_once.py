"""A booking request with a key is made once, on a real Postgres: sent again (one after
the other, or at the same moment) it answers the booking it made and books nothing; the
key with a different request is refused and changes nothing; without a key every request
books, as before. Through ``Bookings`` and the staff desk (``FrontDesk.walk_in``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.calendar.desk import MAX_REQUEST_KEY, MIN_REQUEST_KEY, EntryRefused, NewCustomer
from core.calendar.ports import Role, StaffUser
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor, BookingStatus
from core.domain.errors import RequestReused, SlotTaken
from salonbot.bootstrap import Salonbot
from tests.db_state import dump_tables, rows

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
DESK = Actor.staff("owner@salon.test")
KEY = "k3y-0f-0ne-f0rm_1234567890"
# Wednesday 2026-12-09, 11:00 in Berlin: Maria and Olga both do manicures then.
ELEVEN = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
TWO_PM = datetime(2026, 12, 9, 13, 0, tzinfo=UTC)


async def bookings(app: Salonbot) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine, "SELECT id, staff_id, customer_id, request_key FROM bookings ORDER BY id"
    )


async def known_customer(app: Salonbot, name: str) -> int:
    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(name, app.clock.now())
        await uow.commit()
    return customer_id


# Bookings.book


async def test_the_same_request_twice_with_one_key_books_once_and_answers_that_booking(
    app: Salonbot,
) -> None:
    ada = await known_customer(app, "Ada")

    first = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)
    again = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)

    assert again == first
    assert len(await bookings(app)) == 1
    # Sent again, nothing is recorded again either: one "booked" line.
    assert await rows(app.engine, "SELECT action FROM booking_events") == [("booked",)]


async def test_without_a_key_the_same_request_twice_books_twice_as_before(
    app: Salonbot,
) -> None:
    ada = await known_customer(app, "Ada")

    first = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada)
    second = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada)

    assert first.id != second.id
    assert {first.staff_key, second.staff_key} == {"maria", "olga"}
    assert [row[3] for row in await bookings(app)] == [None, None]


@pytest.mark.race
async def test_one_key_sent_twice_at_the_same_moment_books_once(app: Salonbot) -> None:
    # "Anyone free" with two staff free: without the key the second would take Olga.
    ada = await known_customer(app, "Ada")

    results = await asyncio.gather(
        *(
            app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)
            for _ in range(4)
        )
    )

    assert len({booking.id for booking in results}) == 1
    assert len(await bookings(app)) == 1


@pytest.mark.race
async def test_one_key_at_the_same_moment_for_two_staff_members_books_one_and_refuses_one(
    app: Salonbot,
) -> None:
    # Each locks only its own staff member: both get to the insert, the unique index
    # decides, and the loser sees the winner made a different request.
    ada = await known_customer(app, "Ada")

    results = await asyncio.gather(
        *(
            app.bookings.book(
                "manicure", ELEVEN, DESK, staff_key=member, customer_id=ada, request_key=KEY
            )
            for member in ("maria", "olga")
        ),
        return_exceptions=True,
    )

    booked = await bookings(app)
    assert len(booked) == 1
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert [w.id for w in won] == [booked[0][0]]
    assert len(lost) == 1
    assert isinstance(lost[0], RequestReused)
    assert lost[0].booking_id == booked[0][0]


@pytest.mark.race
async def test_the_unique_index_answers_the_winner_when_the_locks_did_not_order_them(
    app: Salonbot,
) -> None:
    # A writer of the key that took no staff lock (as a request over other staff does):
    # its uncommitted row is invisible to the booking's checks, so the booking gets as
    # far as its insert, waits there on the key, and answers the winner's booking.
    ada = await known_customer(app, "Ada")
    async with app.engine.connect() as other:
        transaction = await other.begin()
        winner = (
            await other.execute(
                text(
                    "INSERT INTO bookings (customer_id, service_id, staff_id, starts_at, "
                    "ends_at, blocked_from, blocked_until, status, price, request_key) "
                    "SELECT :customer, services.id, staff.id, :start, :end, :start, :end, "
                    "'confirmed', 40, :key FROM services, staff "
                    "WHERE services.key = 'manicure' AND staff.key = 'olga' RETURNING id"
                ),
                {
                    "customer": ada,
                    "start": ELEVEN,
                    "end": ELEVEN + timedelta(hours=1),
                    "key": KEY,
                },
            )
        ).scalar_one()
        booking = asyncio.create_task(
            app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)
        )
        await _waiting_for_a_lock(app)
        await transaction.commit()
        answered = await booking

    assert (answered.id, answered.staff_key) == (winner, "olga")
    assert len(await bookings(app)) == 1


async def _waiting_for_a_lock(app: Salonbot) -> None:
    for _ in range(500):
        waiting = await rows(app.engine, "SELECT count(*) FROM pg_locks WHERE NOT granted")
        if waiting[0][0]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the booking never waited on the key")


@pytest.mark.parametrize(
    "change",
    [
        {"service_key": "pedicure"},
        {"start": TWO_PM},
        {"staff_key": "olga"},
        {"customer": "Ben"},
    ],
)
async def test_a_key_that_booked_refuses_a_different_request_and_changes_nothing(
    app: Salonbot, change: dict[str, Any]
) -> None:
    ada = await known_customer(app, "Ada")
    ben = await known_customer(app, "Ben")
    first = await app.bookings.book(
        "manicure", ELEVEN, DESK, staff_key="maria", customer_id=ada, request_key=KEY
    )
    before = await dump_tables(app.engine)

    with pytest.raises(RequestReused) as refused:
        await app.bookings.book(
            change.get("service_key", "manicure"),
            change.get("start", ELEVEN),
            DESK,
            staff_key=change.get("staff_key", "maria"),
            customer_id=ben if change.get("customer") else ada,
            request_key=KEY,
        )

    assert refused.value.booking_id == first.id
    assert await dump_tables(app.engine) == before


async def test_a_booking_moved_since_is_still_what_its_key_made(app: Salonbot) -> None:
    ada = await known_customer(app, "Ada")
    first = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)
    moved = await app.bookings.reschedule(first.id, TWO_PM, DESK)

    again = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)

    assert again == moved
    assert len(await bookings(app)) == 1


async def test_a_cancelled_booking_is_what_its_key_answers_not_a_new_one(app: Salonbot) -> None:
    ada = await known_customer(app, "Ada")
    first = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)
    await app.bookings.cancel(first.id, DESK)

    again = await app.bookings.book("manicure", ELEVEN, DESK, customer_id=ada, request_key=KEY)

    assert (again.id, again.status) == (first.id, BookingStatus.CANCELLED)
    assert len(await bookings(app)) == 1


async def test_a_refused_request_leaves_its_key_unused(app: Salonbot) -> None:
    ada = await known_customer(app, "Ada")
    await app.bookings.book("manicure", ELEVEN, DESK, staff_key="maria", customer_id=ada)

    with pytest.raises(SlotTaken):
        await app.bookings.book(
            "manicure", ELEVEN, DESK, staff_key="maria", customer_id=ada, request_key=KEY
        )
    # Corrected (another time), the same key books.
    booked = await app.bookings.book(
        "manicure", TWO_PM, DESK, staff_key="maria", customer_id=ada, request_key=KEY
    )

    assert [row[3] for row in await bookings(app)] == [None, KEY]
    assert booked.start == TWO_PM


# FrontDesk.walk_in


async def test_a_walk_in_of_a_new_customer_sent_twice_books_once_and_adds_them_once(
    app: Salonbot,
) -> None:
    ada = NewCustomer("Ada Lovelace", "")

    first = await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, ada, KEY)
    again = await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, ada, KEY)

    assert again == first
    assert len(await bookings(app)) == 1
    assert await rows(app.engine, "SELECT name FROM customers") == [("Ada Lovelace",)]


@pytest.mark.race
async def test_a_walk_in_of_a_new_customer_sent_twice_at_once_books_once_and_adds_them_once(
    app: Salonbot,
) -> None:
    results = await asyncio.gather(
        *(
            app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, NewCustomer("Ada"), KEY)
            for _ in range(3)
        )
    )

    assert len({booking.id for booking in results}) == 1
    assert len(await bookings(app)) == 1
    assert await rows(app.engine, "SELECT name FROM customers") == [("Ada",)]


async def test_a_walk_in_known_by_phone_sent_again_under_another_name_is_the_same(
    app: Salonbot,
) -> None:
    # A phone that names a customer: the customer is whoever has its digits.
    first = await app.front_desk.walk_in(
        OWNER, "manicure", None, ELEVEN, NewCustomer("Ada", "+49 30 1234567"), KEY
    )
    again = await app.front_desk.walk_in(
        OWNER, "manicure", None, ELEVEN, NewCustomer("Ada L.", "+49301234567"), KEY
    )

    assert again == first


async def test_a_walk_in_form_sent_again_for_another_new_customer_is_refused(
    app: Salonbot,
) -> None:
    await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, NewCustomer("Ada"), KEY)
    before = await dump_tables(app.engine)

    with pytest.raises(RequestReused):
        await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, NewCustomer("Ben"), KEY)

    assert await dump_tables(app.engine) == before


@pytest.mark.parametrize(
    "key",
    [
        "",
        "a" * (MIN_REQUEST_KEY - 1),
        "a" * (MAX_REQUEST_KEY + 1),
        "k3y with blanks 1234567",
        "ключ-ключ-ключ-ключ",
        "k3y\x00-0f-0ne-f0rm_1234",
    ],
)
async def test_a_request_key_out_of_bounds_is_refused_and_books_nothing(
    app: Salonbot, key: str
) -> None:
    with pytest.raises(EntryRefused) as refused:
        await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, NewCustomer("Ada"), key)

    assert (refused.value.field, refused.value.problem) == ("request_key", "malformed")
    assert await bookings(app) == []
    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(0,)]


async def test_request_keys_at_their_bounds_are_taken(app: Salonbot) -> None:
    short, long = "a" * MIN_REQUEST_KEY, "Z9_-" * (MAX_REQUEST_KEY // 4)

    await app.front_desk.walk_in(OWNER, "manicure", None, ELEVEN, NewCustomer("Ada"), short)
    await app.front_desk.walk_in(OWNER, "manicure", None, TWO_PM, NewCustomer("Ben"), long)

    assert [row[3] for row in await bookings(app)] == [short, long]
