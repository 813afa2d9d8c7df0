"""Booking use cases on a real Postgres: hold, confirm, book, cancel, reschedule, time off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.domain.availability import SlotQuery
from core.domain.booking import Actor, BookingStatus
from core.domain.errors import (
    BookingNotFound,
    CutoffPassed,
    HoldExpired,
    InvalidTransition,
    SlotNotOffered,
    SlotTaken,
    StaffDoesNotPerform,
    TimeOffConflict,
)
from core.domain.timeline import Interval
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock

# Tuesday 2026-12-08 in Berlin (UTC+1): Anna works 10:00-19:00 with a 14:00-14:45 break.
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
STAFF = Actor.staff("anna")


async def _new_customer(app: Salonbot, name: str = "Ada") -> int:
    from core.db.customer_repository import CustomerRepository

    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(name, app.clock.now())
        await uow.commit()
    return customer_id


async def _history(app: Salonbot, booking_id: int) -> list[dict[str, object]]:
    from core.db.booking_repository import BookingRepository

    async with app.uow() as uow:
        return await BookingRepository(uow.connection).history(booking_id)


async def test_a_booked_slot_leaves_the_offer(app: Salonbot) -> None:
    query = SlotQuery("womens-haircut", TUESDAY_11.date(), TUESDAY_11.date(), "anna")
    assert TUESDAY_11 in [s.start for s in await app.find_slots(query)]

    booking = await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")

    assert booking.status is BookingStatus.CONFIRMED
    assert booking.end - booking.start == timedelta(hours=1)
    starts = [s.start for s in await app.find_slots(query)]
    assert TUESDAY_11 not in starts
    # the 10-minute buffer after the visit keeps 11:00 local (10:00 UTC) + 1h10m blocked
    assert TUESDAY_11 + timedelta(minutes=60) not in starts
    assert TUESDAY_11 + timedelta(minutes=75) in starts


async def test_booking_the_same_slot_twice_is_slot_taken_with_alternatives(app: Salonbot) -> None:
    await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")

    with pytest.raises(SlotTaken) as taken:
        await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")

    alternatives = taken.value.alternatives
    assert len(alternatives) == 3
    assert all(a.start != TUESDAY_11 and a.staff_key == "anna" for a in alternatives)
    distances = [abs(a.start - TUESDAY_11) for a in alternatives]
    assert distances == sorted(distances)


async def test_a_time_off_the_grid_or_outside_hours_is_not_offered(app: Salonbot) -> None:
    with pytest.raises(SlotNotOffered):
        await app.bookings.book(
            "womens-haircut", TUESDAY_11 + timedelta(minutes=7), STAFF, staff_key="anna"
        )
    with pytest.raises(SlotNotOffered):  # 06:00 local, before opening
        await app.bookings.book(
            "womens-haircut", TUESDAY_11 - timedelta(hours=5), STAFF, staff_key="anna"
        )
    with pytest.raises(StaffDoesNotPerform):
        await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="anna")


async def test_minimum_notice_and_horizon_are_enforced(app: Salonbot, clock: FakeClock) -> None:
    customer = await _new_customer(app)
    ada = Actor.customer(customer)
    clock.set(TUESDAY_11 - timedelta(hours=1))  # the demo salon wants 2 h notice
    with pytest.raises(SlotNotOffered, match="minimum notice"):
        await app.bookings.book(
            "womens-haircut", TUESDAY_11, ada, staff_key="anna", customer_id=customer
        )
    clock.set(TUESDAY_11 - timedelta(days=61))  # and books at most 60 days ahead
    with pytest.raises(SlotNotOffered, match="horizon"):
        await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")


async def test_the_salons_own_people_book_without_the_minimum_notice(
    app: Salonbot, clock: FakeClock
) -> None:
    # A walk-in sits down now: staff book the next start the grid has, not two hours on.
    clock.set(TUESDAY_11 - timedelta(minutes=10))
    booked = await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")
    assert booked.start == TUESDAY_11
    # Not in the past, though: a start that has gone is not offered to anyone.
    with pytest.raises(SlotNotOffered):
        await app.bookings.book(
            "womens-haircut", TUESDAY_11 - timedelta(minutes=15), STAFF, staff_key="anna"
        )
    # The move follows the same rule.
    moved = await app.bookings.reschedule(
        booked.id, TUESDAY_11 + timedelta(minutes=15), STAFF, staff_key="anna"
    )
    assert moved.start == TUESDAY_11 + timedelta(minutes=15)


async def test_a_hold_blocks_until_it_expires_then_blocks_nobody(
    app: Salonbot, clock: FakeClock
) -> None:
    first = await _new_customer(app, "First")
    second = await _new_customer(app, "Second")
    hold = await app.bookings.hold(
        "womens-haircut", TUESDAY_11, Actor.customer(first), staff_key="anna", customer_id=first
    )
    assert hold.status is BookingStatus.HELD
    assert hold.hold_expires_at == clock.now() + timedelta(minutes=10)
    with pytest.raises(SlotTaken):
        await app.bookings.hold(
            "womens-haircut",
            TUESDAY_11,
            Actor.customer(second),
            staff_key="anna",
            customer_id=second,
        )

    clock.advance(timedelta(minutes=10))
    query = SlotQuery("womens-haircut", TUESDAY_11.date(), TUESDAY_11.date(), "anna")
    assert TUESDAY_11 in [s.start for s in await app.find_slots(query)]
    taken = await app.bookings.book(
        "womens-haircut", TUESDAY_11, Actor.customer(second), staff_key="anna", customer_id=second
    )
    assert taken.customer_id == second

    with pytest.raises(HoldExpired):
        await app.bookings.confirm(hold.id, Actor.customer(first))
    actions = [event["action"] for event in await _history(app, hold.id)]
    assert actions == ["held", "hold_expired"]


async def test_confirming_a_hold_makes_it_a_booking_once(app: Salonbot) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    hold = await app.bookings.hold(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    confirmed = await app.bookings.confirm(hold.id, actor)
    again = await app.bookings.confirm(hold.id, actor)

    assert confirmed.status is again.status is BookingStatus.CONFIRMED
    history = await _history(app, hold.id)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("held", None, "held"),
        ("confirmed", "held", "confirmed"),
    ]
    assert history[1]["actor_kind"] == "customer"
    assert history[1]["actor_ref"] == str(customer)


async def test_a_customer_cannot_touch_someone_elses_booking(app: Salonbot) -> None:
    owner = await _new_customer(app, "Owner")
    other = await _new_customer(app, "Other")
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, Actor.customer(owner), staff_key="maria", customer_id=owner
    )
    with pytest.raises(BookingNotFound):
        await app.bookings.cancel(booking.id, Actor.customer(other))


async def test_customer_cancel_cutoff_applies_to_customers_not_staff(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    clock.set(TUESDAY_11 - timedelta(hours=23))  # the cutoff is 24 h

    with pytest.raises(CutoffPassed):
        await app.bookings.cancel(booking.id, actor)
    cancelled = await app.bookings.cancel(booking.id, Actor.staff("maria"), note="called in")

    assert cancelled.status is BookingStatus.CANCELLED
    query = SlotQuery("manicure", TUESDAY_11.date(), TUESDAY_11.date(), "maria")
    assert TUESDAY_11 in [s.start for s in await app.find_slots(query)]
    with pytest.raises(InvalidTransition):
        await app.bookings.reschedule(booking.id, TUESDAY_11 + timedelta(hours=2), STAFF)


async def test_reschedule_moves_atomically_and_is_recorded(app: Salonbot) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    booking = await app.bookings.book(
        "womens-haircut", TUESDAY_11, actor, staff_key="anna", customer_id=customer
    )
    later = TUESDAY_11 + timedelta(hours=4)

    moved = await app.bookings.reschedule(booking.id, later, actor)

    assert (moved.id, moved.start, moved.staff_key) == (booking.id, later, "anna")
    query = SlotQuery("womens-haircut", TUESDAY_11.date(), TUESDAY_11.date(), "anna")
    starts = [s.start for s in await app.find_slots(query)]
    assert TUESDAY_11 in starts
    assert later not in starts
    event = (await _history(app, booking.id))[-1]
    assert (event["action"], event["from_starts_at"], event["to_starts_at"]) == (
        "rescheduled",
        TUESDAY_11,
        later,
    )


async def test_a_refused_reschedule_keeps_the_old_slot(app: Salonbot) -> None:
    mine = await app.bookings.book("womens-haircut", TUESDAY_11, STAFF, staff_key="anna")
    later = TUESDAY_11 + timedelta(hours=4)
    await app.bookings.book("womens-haircut", later, STAFF, staff_key="anna")

    with pytest.raises(SlotTaken):
        await app.bookings.reschedule(mine.id, later, STAFF)

    async with app.uow() as uow:
        starts = (
            await uow.connection.execute(
                text("SELECT starts_at FROM bookings WHERE id = :id AND status = 'confirmed'"),
                {"id": mine.id},
            )
        ).scalar_one()
    assert starts == TUESDAY_11


async def test_reschedule_to_another_staff_member(app: Salonbot) -> None:
    booking = await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    wednesday_noon = TUESDAY_11 + timedelta(days=1, hours=1)

    moved = await app.bookings.reschedule(booking.id, wednesday_noon, STAFF, staff_key="olga")

    assert (moved.staff_key, moved.start) == ("olga", wednesday_noon)


async def test_any_staff_goes_to_the_least_booked_that_day(app: Salonbot) -> None:
    # Wednesday: Maria 09-18 and Olga 11-20 both do manicures.
    wednesday_11 = TUESDAY_11 + timedelta(days=1)
    first = await app.bookings.book("manicure", wednesday_11, STAFF)
    second = await app.bookings.book("manicure", wednesday_11, STAFF)
    third = await app.bookings.book("manicure", wednesday_11 + timedelta(hours=3), STAFF)

    assert first.staff_key == "maria"  # tie: catalog order
    assert second.staff_key == "olga"  # Maria is busy at 11:00
    assert third.staff_key == "maria"  # tie again (one each): catalog order


async def test_time_off_blocks_slots_and_is_refused_over_bookings(app: Salonbot) -> None:
    booked = await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    afternoon = Interval(TUESDAY_11 + timedelta(hours=4), TUESDAY_11 + timedelta(hours=7))

    await app.add_time_off("maria", afternoon, STAFF, "dentist")
    with pytest.raises(TimeOffConflict) as conflict:
        await app.add_time_off(
            "maria", Interval(TUESDAY_11, TUESDAY_11 + timedelta(hours=1)), STAFF
        )

    assert conflict.value.booking_ids == (booked.id,)
    query = SlotQuery("manicure", TUESDAY_11.date(), TUESDAY_11.date(), "maria")
    for slot in await app.find_slots(query):
        assert not slot.blocked.overlaps(afternoon)


async def test_time_off_is_refused_over_a_hold_until_the_hold_lapses(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    hold = await app.bookings.hold(
        "manicure", TUESDAY_11, Actor.customer(customer), staff_key="maria", customer_id=customer
    )
    hour = Interval(TUESDAY_11, TUESDAY_11 + timedelta(hours=1))
    with pytest.raises(TimeOffConflict) as conflict:
        await app.add_time_off("maria", hour, STAFF)
    assert conflict.value.booking_ids == (hold.id,)

    clock.advance(timedelta(minutes=10))  # lapsed, not yet swept: it blocks nobody

    assert await app.add_time_off("maria", hour, STAFF) > 0


async def test_naive_datetimes_are_refused(app: Salonbot) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await app.bookings.book(
            "manicure", TUESDAY_11.replace(tzinfo=None), STAFF, staff_key="maria"
        )


async def test_a_lapsed_hold_neither_blocks_removal_nor_can_be_confirmed_after(
    app: Salonbot, clock: FakeClock
) -> None:
    from core.catalog.file import load_catalog_text
    from core.services.catalog import load_catalog
    from tests.conftest import EXAMPLE_CATALOG

    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    hold = await app.bookings.hold(
        "lash-lift", TUESDAY_11 + timedelta(days=1), actor, staff_key="olga", customer_id=customer
    )
    clock.advance(timedelta(minutes=11))
    without_lash_lift = (
        EXAMPLE_CATALOG.read_text(encoding="utf-8")
        .replace(
            "  - id: lash-lift\n    name: {en: Lash lift, ru: Ламинирование ресниц}\n"
            "    category: brows\n    duration: 1h\n    price: 60\n    buffer_after: 5m\n",
            "",
        )
        .replace(
            "services: [brow-shaping, lash-lift, manicure,", "services: [brow-shaping, manicure,"
        )
    )
    document, catalog = load_catalog_text(without_lash_lift)
    assert "lash-lift" not in catalog.services

    result = await load_catalog(app.uow, clock, document)

    assert result.removed_services == ("lash-lift",)
    with pytest.raises(HoldExpired):
        await app.bookings.confirm(hold.id, actor)


async def test_a_lapsed_hold_whose_slot_is_still_free_can_be_confirmed(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    hold = await app.bookings.hold(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    clock.advance(timedelta(minutes=30))

    confirmed = await app.bookings.confirm(hold.id, actor)

    assert confirmed.status is BookingStatus.CONFIRMED


async def test_a_lapsed_hold_cannot_be_confirmed_once_its_start_is_too_close(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    hold = await app.bookings.hold(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    clock.set(TUESDAY_11 + timedelta(days=1))  # long after the visit would have been

    with pytest.raises(HoldExpired):
        await app.bookings.confirm(hold.id, actor)
    actions = [event["action"] for event in await _history(app, hold.id)]
    assert actions == ["held", "hold_expired"]


async def test_a_lapsed_hold_cannot_be_confirmed_into_time_off(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    hold = await app.bookings.hold(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    clock.advance(timedelta(minutes=11))
    # A lapsed hold blocks nobody, so the time off is accepted over it...
    await app.add_time_off("maria", Interval(TUESDAY_11, TUESDAY_11 + timedelta(hours=2)), STAFF)

    # ...and the hold can no longer become a booking there.
    with pytest.raises(HoldExpired):
        await app.bookings.confirm(hold.id, actor)


async def test_outcomes_are_recorded_for_visits_that_have_started(
    app: Salonbot, clock: FakeClock
) -> None:
    done = await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    missed = await app.bookings.book(
        "manicure", TUESDAY_11 + timedelta(hours=4), STAFF, staff_key="maria"
    )
    with pytest.raises(InvalidTransition):
        await app.bookings.record_outcome(done.id, STAFF, BookingStatus.COMPLETED)

    clock.set(TUESDAY_11 + timedelta(hours=6))
    completed = await app.bookings.record_outcome(done.id, STAFF, BookingStatus.COMPLETED)
    no_show = await app.bookings.record_outcome(missed.id, STAFF, BookingStatus.NO_SHOW)

    assert (completed.status, no_show.status) == (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
    with pytest.raises(InvalidTransition):
        await app.bookings.cancel(done.id, STAFF)
    assert [e["action"] for e in await _history(app, missed.id)] == ["booked", "no_show"]


async def test_customer_reschedule_cutoff_applies_to_customers_not_staff(
    app: Salonbot, clock: FakeClock
) -> None:
    customer = await _new_customer(app)
    actor = Actor.customer(customer)
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, actor, staff_key="maria", customer_id=customer
    )
    clock.set(TUESDAY_11 - timedelta(hours=11))  # the reschedule cutoff is 12 h
    later = TUESDAY_11 + timedelta(hours=4)

    with pytest.raises(CutoffPassed):
        await app.bookings.reschedule(booking.id, later, actor)
    moved = await app.bookings.reschedule(booking.id, later, Actor.staff("maria"))

    assert moved.start == later


async def test_a_customer_books_only_for_themselves(app: Salonbot) -> None:
    me = await _new_customer(app, "Me")
    other = await _new_customer(app, "Other")
    with pytest.raises(ValueError, match="themselves"):
        await app.bookings.book(
            "manicure", TUESDAY_11, Actor.customer(me), staff_key="maria", customer_id=other
        )


async def test_time_off_must_have_length_and_respects_buffers(app: Salonbot) -> None:
    booked = await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    with pytest.raises(ValueError, match="end after"):
        await app.add_time_off("maria", Interval(TUESDAY_11, TUESDAY_11), STAFF)
    # The manicure ends at 11:00 UTC; its 10-minute buffer runs to 11:10.
    in_buffer = Interval(TUESDAY_11 + timedelta(minutes=65), TUESDAY_11 + timedelta(hours=2))
    with pytest.raises(TimeOffConflict) as conflict:
        await app.add_time_off("maria", in_buffer, STAFF)
    assert conflict.value.booking_ids == (booked.id,)


class _CalendarBusy:
    """An outside calendar that says Maria is busy at one time (a fake of the port)."""

    def __init__(self, span: Interval) -> None:
        self.span = span

    async def busy(self, staff_key: str, window: Interval) -> list[Interval]:
        return [self.span] if staff_key == "maria" and self.span.overlaps(window) else []


async def test_external_busy_time_is_neither_offered_nor_bookable(app: Salonbot) -> None:
    from core.services.availability import FindSlots
    from core.services.booking import Bookings

    external = _CalendarBusy(Interval(TUESDAY_11, TUESDAY_11 + timedelta(minutes=30)))
    find = FindSlots(app.uow, app.clock, app.catalogs, external)
    bookings = Bookings(app.uow, app.clock, app.catalogs, external)
    query = SlotQuery("manicure", TUESDAY_11.date(), TUESDAY_11.date(), "maria")

    starts = [s.start for s in await find(query)]

    assert TUESDAY_11 not in starts
    assert TUESDAY_11 + timedelta(minutes=30) in starts
    with pytest.raises(SlotTaken):
        await bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    assert TUESDAY_11 in [s.start for s in await app.find_slots(query)]  # only Maria's calendar
