"""The staff desk on Postgres: walk-ins, moves, cancels, outcomes and time off through the
booking use cases, each recorded with the signed-in user's email; the role rule both ways
(checked on the booking as it stands under the lock); refusals that change nothing; the
salon's local times across both DST changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.desk import (
    MAX_NAME,
    MAX_REASON,
    CustomerNotFound,
    EntryRefused,
    FreeStart,
    NewCustomer,
    NoSuchLocalTime,
    NotAllowed,
    TimeOffNotFound,
)
from core.calendar.ports import Role, StaffUser
from core.db.customer_repository import CustomerRepository
from core.domain.availability import SlotQuery
from core.domain.booking import BookingStatus
from core.domain.errors import (
    BookingNotFound,
    InvalidTransition,
    SlotTaken,
    TimeOffConflict,
    UnknownStaff,
)
from salonbot.bootstrap import Salonbot
from tests.db_state import dump_tables, rows
from tests.fakes.clock import FakeClock

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
MARIA = StaffUser(2, "maria@salon.test", Role.STAFF, "maria", "en")
ANNA = StaffUser(3, "anna@salon.test", Role.STAFF, "anna", "ru")
DESKLESS = StaffUser(4, "helper@salon.test", Role.STAFF, None, "en")
TUESDAY = date(2026, 12, 8)  # Maria works 09:00-18:00 Berlin (UTC+1), Anna 10:00-19:00
WEDNESDAY = date(2026, 12, 9)  # Maria 09:00-18:00, Olga 11:00-20:00


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def customer_count(app: Salonbot) -> int:
    return int((await rows(app.engine, "SELECT count(*) FROM customers"))[0][0])


async def history(app: Salonbot, booking_id: int) -> list[tuple[str, str, str]]:
    detail = await app.front_desk.booking(booking_id)
    return [(line.action, line.actor, line.note) for line in detail.history]


async def known_customer(app: Salonbot, name: str, phone: str) -> int:
    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(
            name, app.clock.now(), phone=phone
        )
        await uow.commit()
    return customer_id


# Walk-ins.


async def test_the_owner_books_a_walk_in_for_a_new_customer_and_the_history_names_them(
    app: Salonbot,
) -> None:
    booking = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 9), NewCustomer("  Jonas   Weber ", "+49 160 111")
    )

    assert (booking.staff_key, booking.start, booking.status) == (
        "maria",
        utc(8, 9),
        BookingStatus.CONFIRMED,
    )
    detail = await app.front_desk.booking(booking.id)
    assert detail.customer is not None
    assert (detail.customer.name, detail.customer.phone, detail.customer.channel) == (
        "Jonas Weber",
        "+49 160 111",
        "",
    )
    assert (detail.block.customer_name, detail.block.service_name) == ("Jonas Weber", "Manicure")
    assert await history(app, booking.id) == [("booked", "owner@salon.test", "")]


async def test_a_staff_member_books_in_their_own_column_when_none_is_named(app: Salonbot) -> None:
    customer = await known_customer(app, "Ada", "+4930111")

    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 10), customer)

    assert (booking.staff_key, booking.customer_id) == ("maria", customer)
    assert await history(app, booking.id) == [("booked", "maria@salon.test", "")]


async def test_a_staff_member_may_not_book_in_a_colleagues_column(app: Salonbot) -> None:
    before = await dump_tables(app.engine)

    with pytest.raises(NotAllowed):
        await app.front_desk.walk_in(
            MARIA, "womens-haircut", "anna", utc(8, 10), NewCustomer("Ben")
        )
    with pytest.raises(NotAllowed):
        await app.front_desk.walk_in(DESKLESS, "manicure", None, utc(8, 10), NewCustomer("Ben"))

    assert await dump_tables(app.engine) == before


async def test_a_new_customer_with_a_known_phone_is_the_known_customer(app: Salonbot) -> None:
    known = await known_customer(app, "Ada Lovelace", "+49 (30) 111-222")

    booking = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada", "0049 30 111 222")
    )

    # The digits differ by the country prefix's spelling ("+49" against "0049"): only the
    # same digits are the same number, so this is a new customer...
    assert booking.customer_id != known
    again = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 13), NewCustomer("Ada L.", "+49 30 111 222")
    )
    # ...while the same digits, however written, are the known one.
    assert again.customer_id == known
    assert await customer_count(app) == 2


async def test_a_refused_walk_in_leaves_no_customer_behind(app: Salonbot) -> None:
    await app.front_desk.walk_in(OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada"))
    count = await customer_count(app)

    with pytest.raises(SlotTaken) as refused:
        await app.front_desk.walk_in(
            OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ben", "+4930999")
        )

    assert refused.value.alternatives
    assert all(a.staff_key == "maria" for a in refused.value.alternatives)
    assert await customer_count(app) == count


@pytest.mark.parametrize(
    ("name", "phone", "field", "problem"),
    [
        ("   ", "", "name", "empty"),
        ("x" * (MAX_NAME + 1), "", "name", "too_long"),
        ("Ben", "call me", "phone", "no_digits"),
        ("Ben", "1" * 40, "phone", "too_long"),
        # What no keyboard types: NUL (Postgres cannot store it), a lone surrogate (a
        # forged JSON "\ud800"), another control character.
        ("A\x00b", "", "name", "bad_character"),
        ("Ben", "+49\ud800 30", "phone", "bad_character"),
        ("Ben\x1b[31m", "", "name", "bad_character"),
    ],
)
async def test_a_walk_in_with_a_bad_name_or_phone_is_refused_and_changes_nothing(
    app: Salonbot, name: str, phone: str, field: str, problem: str
) -> None:
    before = await dump_tables(app.engine)

    with pytest.raises(EntryRefused) as refused:
        await app.front_desk.walk_in(
            OWNER, "manicure", "maria", utc(8, 9), NewCustomer(name, phone)
        )

    assert (refused.value.field, refused.value.problem) == (field, problem)
    assert await dump_tables(app.engine) == before


async def test_a_short_placeholder_phone_names_nobody(app: Salonbot) -> None:
    first = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada", "0")
    )
    second = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 13), NewCustomer("Ben", "0")
    )

    assert first.customer_id != second.customer_id
    detail = await app.front_desk.booking(second.id)
    assert detail.customer is not None
    assert detail.customer.name == "Ben"


async def test_a_reason_with_a_nul_is_refused_before_anything_changes(app: Salonbot) -> None:
    booking = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada")
    )
    before = await dump_tables(app.engine)

    with pytest.raises(EntryRefused) as refused:
        await app.front_desk.cancel(OWNER, booking.id, "x\x00y")

    assert (refused.value.field, refused.value.problem) == ("reason", "bad_character")
    assert await dump_tables(app.engine) == before


async def test_a_walk_in_for_an_unknown_customer_id_is_refused(app: Salonbot) -> None:
    with pytest.raises(CustomerNotFound):
        await app.front_desk.walk_in(OWNER, "manicure", "maria", utc(8, 9), 999)


@pytest.mark.race
async def test_two_walk_ins_for_one_slot_at_once_one_wins_and_the_loser_leaves_nothing(
    app: Salonbot,
) -> None:
    results: list[Any] = await asyncio.gather(
        *(
            app.front_desk.walk_in(
                OWNER, "manicure", "maria", utc(8, 9), NewCustomer(f"Guest {n}", f"+49300{n}")
            )
            for n in range(2)
        ),
        return_exceptions=True,
    )

    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], SlotTaken)
    assert await rows(app.engine, "SELECT id FROM customers") == [(won[0].customer_id,)]
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(1,)]


@pytest.mark.race
async def test_two_walk_ins_of_one_new_phone_at_once_make_one_customer(app: Salonbot) -> None:
    await asyncio.gather(
        app.front_desk.walk_in(
            OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada", "+49 30 555 01")
        ),
        app.front_desk.walk_in(
            OWNER, "womens-haircut", "anna", utc(8, 10), NewCustomer("Ada", "+493055501")
        ),
    )

    assert await customer_count(app) == 1


# Moves.


async def test_a_staff_member_moves_their_own_booking_and_the_history_names_them(
    app: Salonbot,
) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))

    moved = await app.front_desk.move(MARIA, booking.id, utc(8, 13))

    assert (moved.start, moved.staff_key, moved.version) == (utc(8, 13), "maria", 2)
    assert await history(app, booking.id) == [
        ("booked", "maria@salon.test", ""),
        ("rescheduled", "maria@salon.test", ""),
    ]


async def test_a_staff_member_may_not_move_a_colleagues_booking_nor_hand_their_own_over(
    app: Salonbot,
) -> None:
    annas = await app.front_desk.walk_in(
        ANNA, "womens-haircut", None, utc(8, 10), NewCustomer("Ada")
    )
    marias = await app.front_desk.walk_in(MARIA, "manicure", None, utc(9, 13), NewCustomer("Ben"))
    before = await dump_tables(app.engine)

    with pytest.raises(NotAllowed):
        await app.front_desk.move(MARIA, annas.id, utc(8, 12))
    with pytest.raises(NotAllowed):
        await app.front_desk.move(MARIA, marias.id, utc(9, 15), staff_key="olga")

    assert await dump_tables(app.engine) == before


async def test_the_owner_hands_a_booking_to_a_colleague(app: Salonbot) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(9, 13), NewCustomer("Ada"))

    moved = await app.front_desk.move(OWNER, booking.id, utc(9, 15), staff_key="olga")

    assert (moved.staff_key, moved.start) == ("olga", utc(9, 15))
    assert (await history(app, booking.id))[-1] == ("rescheduled", "owner@salon.test", "")
    # Now Olga's: Maria may no longer touch it.
    with pytest.raises(NotAllowed):
        await app.front_desk.cancel(MARIA, booking.id, "")


async def test_a_move_onto_a_taken_time_is_refused_with_alternatives(app: Salonbot) -> None:
    first = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))
    await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 13), NewCustomer("Ben"))

    with pytest.raises(SlotTaken) as refused:
        await app.front_desk.move(MARIA, first.id, utc(8, 13))

    assert refused.value.alternatives
    assert (await app.front_desk.booking(first.id)).block.start == utc(8, 9)


@pytest.mark.race
async def test_a_cancel_that_waited_while_the_booking_changed_hands_is_refused(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    """The role is checked on the booking as it stands under the lock: Maria's cancel
    waits for the row while another transaction hands the booking to Olga, then sees Olga's
    booking and is refused (a check before the lock would have let it through)."""
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(9, 13), NewCustomer("Ada"))
    async with clean_engine.connect() as other:
        transaction = await other.begin()
        await other.execute(
            text("SELECT id FROM bookings WHERE id = :id FOR UPDATE"), {"id": booking.id}
        )
        await other.execute(
            text(
                "UPDATE bookings SET staff_id = (SELECT id FROM staff WHERE key = 'olga')"
                " WHERE id = :id"
            ),
            {"id": booking.id},
        )
        cancel = asyncio.create_task(app.front_desk.cancel(MARIA, booking.id, "ill"))
        await _until_waiting_for_a_lock(clean_engine)
        await transaction.commit()
        with pytest.raises(NotAllowed):
            await cancel

    detail = await app.front_desk.booking(booking.id)
    assert (detail.staff_key, detail.block.status) == ("olga", BookingStatus.CONFIRMED)


async def _until_waiting_for_a_lock(engine: AsyncEngine) -> None:
    for _ in range(200):
        waiting = await rows(
            engine,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
        if waiting[0][0]:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("nobody waited for the lock")


# Cancels and outcomes.


async def test_a_cancel_records_the_reason_and_the_user(app: Salonbot) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))

    cancelled = await app.front_desk.cancel(MARIA, booking.id, "  Maria is ill ")

    assert cancelled.status is BookingStatus.CANCELLED
    assert (await history(app, booking.id))[-1] == (
        "cancelled",
        "maria@salon.test",
        "Maria is ill",
    )


async def test_a_staff_member_may_not_cancel_a_colleagues_booking_but_the_owner_may(
    app: Salonbot,
) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))

    with pytest.raises(NotAllowed):
        await app.front_desk.cancel(ANNA, booking.id, "")
    assert (await app.front_desk.booking(booking.id)).block.status is BookingStatus.CONFIRMED

    await app.front_desk.cancel(OWNER, booking.id, "")
    assert (await history(app, booking.id))[-1][:2] == ("cancelled", "owner@salon.test")


async def test_a_reason_too_long_is_refused_before_anything_changes(app: Salonbot) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))

    with pytest.raises(EntryRefused):
        await app.front_desk.cancel(MARIA, booking.id, "x" * (MAX_REASON + 1))

    assert (await app.front_desk.booking(booking.id)).block.status is BookingStatus.CONFIRMED


async def test_a_visit_is_marked_once_it_has_started_by_its_staff_member_only(
    app: Salonbot, clock: FakeClock
) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))
    with pytest.raises(InvalidTransition):
        await app.front_desk.mark(MARIA, booking.id, BookingStatus.NO_SHOW)

    clock.set(utc(8, 9, 20))
    with pytest.raises(NotAllowed):
        await app.front_desk.mark(ANNA, booking.id, BookingStatus.NO_SHOW)
    marked = await app.front_desk.mark(MARIA, booking.id, BookingStatus.NO_SHOW)

    assert marked.status is BookingStatus.NO_SHOW
    assert (await history(app, booking.id))[-1] == ("no_show", "maria@salon.test", "")


async def test_an_unknown_booking_is_not_found(app: Salonbot) -> None:
    with pytest.raises(BookingNotFound):
        await app.front_desk.booking(999)
    with pytest.raises(BookingNotFound):
        await app.front_desk.cancel(OWNER, 999, "")


# Reading.


async def test_a_bookings_detail_has_its_block_customer_history_zone_and_now(
    app: Salonbot, clock: FakeClock
) -> None:
    booking = await app.front_desk.walk_in(
        OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada", "+4930111")
    )
    clock.advance(timedelta(minutes=5))
    await app.front_desk.move(MARIA, booking.id, utc(8, 10))

    detail = await app.front_desk.booking(booking.id)

    assert (detail.staff_key, detail.staff_name) == ("maria", "Maria")
    assert (detail.block.id, detail.block.version) == (booking.id, 2)
    assert (detail.block.start, detail.block.end) == (utc(8, 10), utc(8, 11))
    assert (detail.block.customer_phone, detail.block.channel) == ("+4930111", "")
    assert [(h.at, h.action) for h in detail.history] == [
        (utc(7, 6), "booked"),
        (utc(7, 6, 5), "rescheduled"),
    ]
    assert (detail.zone.key, detail.now) == ("Europe/Berlin", clock.now())


async def test_free_starts_are_the_availability_of_the_day(app: Salonbot) -> None:
    await app.front_desk.walk_in(OWNER, "manicure", "maria", utc(8, 9), NewCustomer("Ada"))

    starts = await app.front_desk.free_starts("manicure", "maria", TUESDAY)

    expected = await app.find_slots(SlotQuery("manicure", TUESDAY, TUESDAY, "maria"))
    assert starts == [FreeStart(s.staff_key, s.start) for s in expected]
    assert FreeStart("maria", utc(8, 9)) not in starts
    assert FreeStart("maria", utc(8, 10, 15)) in starts  # after the first visit's buffer
    anyone = await app.front_desk.free_starts("manicure", None, WEDNESDAY)
    assert {f.staff_key for f in anyone} == {"maria", "olga"}
    assert anyone == sorted(anyone, key=lambda f: (f.start, f.staff_key))


async def test_free_starts_at_the_desk_need_no_minimum_notice(
    app: Salonbot, clock: FakeClock
) -> None:
    # The demo salon wants 2 h notice from customers; the desk books the next start.
    clock.set(utc(8, 9, 5))
    starts = await app.front_desk.free_starts("manicure", "maria", TUESDAY)
    assert starts[0] == FreeStart("maria", utc(8, 9, 15))
    customers = await app.find_slots(SlotQuery("manicure", TUESDAY, TUESDAY, "maria"))
    assert customers[0].start >= utc(8, 11, 5)
    booked = await app.front_desk.walk_in(
        MARIA, "manicure", None, utc(8, 9, 15), NewCustomer("Walk-in")
    )
    assert booked.start == utc(8, 9, 15)


@pytest.mark.parametrize(
    ("day", "at", "instant"),
    [
        # Winter (UTC+1) and summer (UTC+2).
        (date(2027, 1, 12), time(10), datetime(2027, 1, 12, 9, tzinfo=UTC)),
        (date(2027, 7, 12), time(10), datetime(2027, 7, 12, 8, tzinfo=UTC)),
        # The spring change: 02:00 becomes 03:00; the hour before and after it exist.
        (date(2027, 3, 28), time(1, 59), datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        (date(2027, 3, 28), time(3), datetime(2027, 3, 28, 1, tzinfo=UTC)),
        # The autumn change: 02:00-03:00 happens twice; the earlier one is meant.
        (date(2027, 10, 31), time(2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (date(2027, 10, 31), time(3), datetime(2027, 10, 31, 2, tzinfo=UTC)),
        # Midnight is the day's start.
        (date(2027, 10, 31), time(0), datetime(2027, 10, 30, 22, tzinfo=UTC)),
    ],
)
async def test_a_local_time_is_its_instant_in_the_salons_zone(
    app: Salonbot, day: date, at: time, instant: datetime
) -> None:
    assert await app.front_desk.instant(day, at) == instant


@pytest.mark.parametrize("at", [time(2), time(2, 30), time(2, 59)])
async def test_a_local_time_the_spring_change_skips_does_not_exist(app: Salonbot, at: time) -> None:
    with pytest.raises(NoSuchLocalTime) as refused:
        await app.front_desk.instant(date(2027, 3, 28), at)

    assert (refused.value.day, refused.value.at) == (date(2027, 3, 28), at)


# Time off.


async def test_a_staff_member_adds_lists_and_removes_their_own_time_off(app: Salonbot) -> None:
    added = await app.front_desk.add_time_off(MARIA, "maria", utc(8, 12), utc(8, 14), "  Dentist ")

    spans = await app.front_desk.time_off("maria", utc(8, 0), utc(9, 0))
    assert [(s.id, s.staff_key, s.start, s.end, s.reason) for s in spans] == [
        (added, "maria", utc(8, 12), utc(8, 14), "Dentist")
    ]
    assert await app.front_desk.time_off("maria", utc(8, 14), utc(9, 0)) == []
    assert await app.front_desk.time_off("anna", utc(8, 0), utc(9, 0)) == []
    assert await rows(app.engine, "SELECT created_by FROM time_off") == [
        ("staff:maria@salon.test",)
    ]
    with pytest.raises(SlotTaken):
        await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 13), NewCustomer("Ada"))

    await app.front_desk.remove_time_off(MARIA, added)

    assert await app.front_desk.time_off("maria", utc(8, 0), utc(9, 0)) == []
    with pytest.raises(TimeOffNotFound):
        await app.front_desk.remove_time_off(MARIA, added)


async def test_time_off_of_a_colleague_is_the_owners_call(app: Salonbot) -> None:
    with pytest.raises(NotAllowed):
        await app.front_desk.add_time_off(MARIA, "anna", utc(8, 12), utc(8, 14), "")
    annas = await app.front_desk.add_time_off(OWNER, "anna", utc(8, 12), utc(8, 14), "")

    with pytest.raises(NotAllowed):
        await app.front_desk.remove_time_off(MARIA, annas)
    assert len(await app.front_desk.time_off("anna", utc(8, 0), utc(9, 0))) == 1

    await app.front_desk.remove_time_off(OWNER, annas)
    assert await app.front_desk.time_off("anna", utc(8, 0), utc(9, 0)) == []


async def test_time_off_that_does_not_end_after_it_starts_is_refused(app: Salonbot) -> None:
    with pytest.raises(EntryRefused) as refused:
        await app.front_desk.add_time_off(MARIA, "maria", utc(8, 14), utc(8, 14), "")

    assert (refused.value.field, refused.value.problem) == ("span", "empty")


async def test_time_off_over_a_booking_is_refused(app: Salonbot) -> None:
    booking = await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), NewCustomer("Ada"))

    with pytest.raises(TimeOffConflict) as refused:
        await app.front_desk.add_time_off(MARIA, "maria", utc(8, 8), utc(8, 12), "")

    assert refused.value.booking_ids == (booking.id,)
    assert await app.front_desk.time_off("maria", utc(8, 0), utc(9, 0)) == []


async def test_time_off_of_an_unknown_staff_member_is_refused(app: Salonbot) -> None:
    with pytest.raises(UnknownStaff):
        await app.front_desk.time_off("nobody", utc(8, 0), utc(9, 0))
    with pytest.raises(UnknownStaff):
        await app.front_desk.add_time_off(OWNER, "nobody", utc(8, 12), utc(8, 14), "")
    # A forged key (what a URL can carry) is unknown too, never a database error.
    for forged in ("\x00", "maria\x00", "x" * 500, " maria"):
        with pytest.raises(UnknownStaff):
            await app.front_desk.add_time_off(OWNER, forged, utc(8, 12), utc(8, 14), "")
