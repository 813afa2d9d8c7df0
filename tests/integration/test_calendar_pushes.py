"""Calendar pushes: each staff member's linked calendar follows their bookings, through a
durable queue filled in the booking change's transaction and emptied by the pusher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.tables import calendar_pushes
from core.domain.booking import Actor, BookingStatus
from core.domain.catalog import Catalog
from core.linked_calendars.ports import event_id
from core.services.calendar_pusher import CLAIM_FOR, MAX_ATTEMPTS, CalendarPusher, PushRun
from core.services.catalog import load_catalog
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.scheduler import Scheduler
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.staff_chats import add_customer
from tests.waiting import until

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Maria works Mondays
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Olga's
STAFF = Actor.staff("owner")
CALENDARS = {"maria": "maria@example.org", "olga": "olga@example.org"}  # anna has none
MARIA, OLGA = CALENDARS["maria"], CALENDARS["olga"]


def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
    return CALENDARS.get(staff_key)


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
async def pushing(
    clean_engine: AsyncEngine, clock: FakeClock, calendars: FakeLinkedCalendars
) -> Salonbot:
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salonbot.uow, clock, document)
    return salonbot


@pytest.fixture
async def ada(pushing: Salonbot) -> int:
    return await add_customer(pushing, "Ada Lovelace", "+4930111222")


def pusher(app: Salonbot) -> CalendarPusher:
    assert app.calendar_pusher is not None
    return app.calendar_pusher


async def queue(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(calendar_pushes).order_by(calendar_pushes.c.id))
        return [dict(row._mapping) for row in rows]


async def drain(app: Salonbot) -> None:
    """Run the pusher until nothing is due now."""
    for _ in range(10):
        run = await pusher(app).run()
        if run.done + run.retried + run.parked == 0:
            return
    raise AssertionError("the pusher never ran dry")


async def test_a_confirmed_booking_is_put_with_its_draft(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )

    [row] = await queue(pushing.engine)
    assert (row["action"], row["calendar_id"], row["done_at"]) == ("put", MARIA, None)
    await drain(pushing)

    event = calendars.events[MARIA][event_id(booking.id)]
    assert event.summary == "Manicure: Ada"
    assert event.description == f"+4930111222\nsalonbot #{booking.id}"
    assert (event.start, event.end) == (booking.start, booking.end)
    assert event.start.tzinfo is not None
    assert event.time_zone == "Europe/Berlin"
    [row] = await queue(pushing.engine)
    assert row["done_at"] is not None
    assert row["attempts"] == 1


async def test_a_hold_is_never_pushed_only_its_confirmation(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    customer = Actor.customer(ada)
    hold = await pushing.bookings.hold("manicure", MONDAY_10, customer, customer_id=ada)
    let_go = await pushing.bookings.hold("manicure", TUESDAY_11, customer, customer_id=ada)
    await pushing.bookings.cancel(let_go.id, customer)
    assert await queue(pushing.engine) == []

    await pushing.bookings.confirm(hold.id, customer)
    await drain(pushing)

    assert list(calendars.events[MARIA]) == [event_id(hold.id)]
    assert [c[0] for c in calendars.calls] == ["put"]


async def test_staff_without_a_calendar_queue_nothing(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    await pushing.bookings.book(
        "womens-haircut", TUESDAY_11, STAFF, staff_key="anna", customer_id=ada
    )

    assert await queue(pushing.engine) == []


async def test_a_move_within_one_staff_member_puts_again(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)

    moved = await pushing.bookings.reschedule(booking.id, TUESDAY_11, STAFF)
    await drain(pushing)

    assert calendars.events[MARIA][event_id(booking.id)].start == moved.start == TUESDAY_11
    assert [c[0] for c in calendars.calls] == ["put", "put"]


async def test_a_move_between_staff_removes_from_the_old_calendar_then_puts_on_the_new(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)

    await pushing.bookings.reschedule(booking.id, WEDNESDAY_12, STAFF, staff_key="olga")
    await drain(pushing)

    assert calendars.events[MARIA] == {}
    assert calendars.events[OLGA][event_id(booking.id)].start == WEDNESDAY_12
    assert calendars.calls[1:] == [
        ("remove", MARIA, event_id(booking.id)),
        ("put", OLGA, event_id(booking.id)),
    ]


async def test_a_cancel_and_a_no_show_remove_the_event(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    cancelled = await pushing.bookings.book(
        "manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=ada
    )
    missed = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)
    assert len(calendars.events[MARIA]) == 2

    await pushing.bookings.cancel(cancelled.id, STAFF, note="ill")
    clock.set(MONDAY_10 + timedelta(minutes=5))
    await pushing.bookings.record_outcome(missed.id, STAFF, BookingStatus.NO_SHOW)
    await drain(pushing)

    assert calendars.events[MARIA] == {}
    assert [c[0] for c in calendars.calls] == ["put", "put", "remove", "remove"]


async def test_a_transient_failure_is_tried_again_later_with_backoff(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    calendars.refuse_next(2, "503 backend error", transient=True)

    first = await pusher(pushing).run()
    [row] = await queue(pushing.engine)
    assert (first.retried, row["attempts"], row["last_error"]) == (1, 1, "503 backend error")
    first_wait = row["next_attempt_at"] - clock.now()  # type: ignore[operator]
    assert timedelta(seconds=0.5) <= first_wait <= timedelta(seconds=1.5)
    assert (await pusher(pushing).run()).retried == 0  # not due yet

    clock.advance(first_wait)
    await pusher(pushing).run()
    [row] = await queue(pushing.engine)
    second_wait = row["next_attempt_at"] - clock.now()  # type: ignore[operator]
    assert timedelta(seconds=1.5) <= second_wait <= timedelta(seconds=2.5)  # doubled

    clock.advance(second_wait)
    assert (await pusher(pushing).run()).done == 1
    assert event_id(booking.id) in calendars.events[MARIA]


async def test_retry_after_is_honoured(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)
    calendars.refuse_next(1, "429 rate limit", transient=True, retry_after=120)

    await pusher(pushing).run()

    [row] = await queue(pushing.engine)
    assert row["next_attempt_at"] == clock.now() + timedelta(seconds=120)


async def test_a_permanent_failure_is_parked_with_its_reason_and_later_pushes_go_on(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    calendars.refuse_next(1, "calendar not shared with salonbot", transient=False)

    assert (await pusher(pushing).run()).parked == 1
    [row] = await queue(pushing.engine)
    assert row["parked_at"] is not None
    assert row["done_at"] is None
    assert row["last_error"] == "calendar not shared with salonbot"
    clock.advance(timedelta(hours=2))
    assert (await pusher(pushing).run()).parked == 0  # never tried again

    await pushing.bookings.cancel(booking.id, STAFF)
    assert (await pusher(pushing).run()).done == 1


async def test_too_many_transient_failures_park_the_push(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)
    calendars.refuse_next(MAX_ATTEMPTS, "503 backend error", transient=True)

    for _ in range(MAX_ATTEMPTS):
        await pusher(pushing).run()
        clock.advance(timedelta(hours=1))

    [row] = await queue(pushing.engine)
    assert row["attempts"] == MAX_ATTEMPTS
    assert row["parked_at"] is not None
    assert row["last_error"] == "gave up: 503 backend error"
    assert MARIA not in calendars.events


async def test_pushes_of_one_booking_go_in_order_and_a_newer_put_supersedes(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    calendars.refuse_next(1, "503", transient=True)
    await pusher(pushing).run()  # the put waits to be retried
    await pushing.bookings.reschedule(booking.id, WEDNESDAY_12, STAFF, staff_key="olga")
    await pushing.bookings.reschedule(booking.id, TUESDAY_11, STAFF, staff_key="maria")

    # Open puts no pusher holds are superseded by the next push of the booking to the
    # same calendar: only the event's last state matters. The rest go in order.
    rows = await queue(pushing.engine)
    assert [(r["action"], r["calendar_id"], r["done_at"] is None) for r in rows] == [
        ("put", MARIA, False),
        ("remove", MARIA, True),
        ("put", OLGA, False),
        ("remove", OLGA, True),
        ("put", MARIA, True),
    ]
    assert rows[0]["last_error"] == "superseded by a later push"
    await drain(pushing)

    assert calendars.calls[1:] == [
        ("remove", MARIA, event_id(booking.id)),
        ("remove", OLGA, event_id(booking.id)),
        ("put", MARIA, event_id(booking.id)),
    ]
    assert calendars.events.get(OLGA, {}) == {}
    assert calendars.events[MARIA][event_id(booking.id)].start == TUESDAY_11


async def test_a_later_push_waits_for_an_earlier_one_being_retried(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)
    await pushing.bookings.reschedule(booking.id, WEDNESDAY_12, STAFF, staff_key="olga")
    calendars.refuse_next(1, "503", transient=True)
    assert (await pusher(pushing).run()).retried == 1  # the remove from Maria's calendar

    assert (await pusher(pushing).run()).done == 0  # Olga's put waits for it
    assert OLGA not in calendars.events
    clock.advance(timedelta(seconds=5))
    await drain(pushing)

    assert [c[:2] for c in calendars.calls] == [
        ("put", MARIA),
        ("remove", MARIA),
        ("remove", MARIA),
        ("put", OLGA),
    ]
    assert calendars.events[MARIA] == {}
    assert list(calendars.events[OLGA]) == [event_id(booking.id)]


async def test_two_pushers_at_once_never_push_one_row_twice(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    for start in (MONDAY_10, TUESDAY_11):
        await pushing.bookings.book("manicure", start, STAFF, staff_key="maria", customer_id=ada)
    await pushing.bookings.book("manicure", WEDNESDAY_12, STAFF, staff_key="olga", customer_id=ada)
    calendars.gate = asyncio.Event()
    one = CalendarPusher(pushing.uow, pushing.clock, calendars, limit=2)
    two = CalendarPusher(pushing.uow, pushing.clock, calendars, limit=2)

    runs = asyncio.gather(one.run(), two.run())
    await asyncio.sleep(0.2)  # both have claimed and are calling the calendar
    calendars.gate.set()
    first, second = await runs

    assert first.done + second.done == 3
    assert sorted(c[2] for c in calendars.calls) == sorted(
        {c[2] for c in calendars.calls}
    )  # each event pushed once
    assert len(calendars.calls) == 3


async def test_a_stale_claim_records_nothing_over_the_pusher_that_took_over(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)
    calendars.gate = asyncio.Event()
    stalled = asyncio.create_task(pusher(pushing).run())
    await asyncio.sleep(0.2)
    clock.advance(timedelta(minutes=10))  # its claim ran out: another pusher takes over
    other_calendars = FakeLinkedCalendars()
    taken_over = await CalendarPusher(pushing.uow, clock, other_calendars).run()
    calendars.refuse_next(1, "503", transient=True)  # the stalled call fails, late
    calendars.gate.set()
    await stalled

    assert taken_over.done == 1
    [row] = await queue(pushing.engine)
    assert row["done_at"] is not None
    assert row["last_error"] is None


async def test_a_failing_calendar_never_holds_a_booking_back(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    calendars.gate = asyncio.Event()  # the calendar hangs
    calendars.refuse_next(5, "503", transient=True)
    hung = asyncio.create_task(pusher(pushing).run())

    booking = await asyncio.wait_for(
        pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada),
        timeout=5,
    )

    assert booking.status is BookingStatus.CONFIRMED
    [row] = await queue(pushing.engine)
    assert row["booking_id"] == booking.id
    calendars.gate.set()
    await hung


async def test_a_call_past_its_timeout_is_waited_for_before_the_next_push(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    calendars.gate = asyncio.Event()  # the put hangs past the pusher's timeout...
    slow = CalendarPusher(pushing.uow, pushing.clock, calendars, call_timeout=0.05)
    running = asyncio.create_task(slow.run())
    await asyncio.sleep(0.3)
    await pushing.bookings.cancel(booking.id, STAFF)
    # ...and while it runs on, the booking's remove is not carried out before it.
    assert await CalendarPusher(pushing.uow, pushing.clock, calendars).run() == PushRun()
    calendars.gate.set()  # the put lands after all
    first = await running
    calendars.gate = None
    await drain(pushing)

    assert first.done == 1  # recorded as what it was: done
    assert [what for what, _, _ in calendars.calls] == ["put", "remove"]
    assert calendars.events.get(MARIA, {}) == {}  # the remove came last


async def test_a_push_that_could_outlive_its_claim_is_left_to_the_next_run(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)
    late = CalendarPusher(pushing.uow, clock, calendars, call_timeout=CLAIM_FOR.total_seconds())

    assert await late.run() == PushRun()  # claimed, but no time left to carry it out
    assert calendars.calls == []
    clock.advance(CLAIM_FOR)
    assert (await pusher(pushing).run()).done == 1


async def test_a_process_without_the_calendars_still_queues_their_pushes(
    clean_engine: AsyncEngine, clock: FakeClock, ada: int
) -> None:
    # ``salonbot chat``, or serve started without the key: the change is not lost.
    keyless = Salonbot(clean_engine, clock, calendar_of=calendar_of)
    await keyless.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)

    assert keyless.calendar_pusher is None
    [row] = await queue(clean_engine)
    assert (row["action"], row["calendar_id"], row["done_at"]) == ("put", MARIA, None)


async def test_without_linked_calendars_nothing_is_queued_or_pushed(app: Salonbot) -> None:
    ada = await add_customer(app, "Ada")
    await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)

    assert app.calendar_pusher is None
    assert await queue(app.engine) == []


async def test_a_damaged_stored_event_is_parked_not_pushed(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)
    async with pushing.engine.begin() as connection:
        await connection.execute(update(calendar_pushes).values(event={"start": "soon"}))

    await pusher(pushing).run()

    [row] = await queue(pushing.engine)
    assert row["parked_at"] is not None
    assert str(row["last_error"]).startswith("damaged event")
    assert calendars.calls == []


async def test_the_scheduler_runs_the_pusher_only_when_calendars_are_configured(
    pushing: Salonbot, app_without: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    assert not Scheduler(app_without, Wakeup())._scheduler.get_job("calendars")
    scheduler = Scheduler(pushing, Wakeup(), visits_every=3600, agendas_every=3600)

    scheduler.start()
    try:
        await until(
            lambda: _pushed(calendars, booking.id), "the scheduler's tick pushes the booking"
        )
    finally:
        await scheduler.stop()


async def _pushed(calendars: FakeLinkedCalendars, booking_id: int) -> bool:
    return event_id(booking_id) in calendars.events.get(MARIA, {})


@pytest.fixture
def app_without(pushing: Salonbot) -> Salonbot:
    """The same database, with no linked calendars configured."""
    return Salonbot(pushing.engine, pushing.clock)


async def test_a_remove_goes_where_the_event_was_put(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)
    # The owner gives Maria another calendar, then takes hers out of the catalog.
    monkeypatch.setitem(CALENDARS, "maria", "maria-new@example.org")
    await pushing.bookings.cancel(booking.id, STAFF)
    await drain(pushing)

    assert calendars.calls[-1] == ("remove", MARIA, event_id(booking.id))
    assert calendars.events.get(MARIA, {}) == {}

    other = await pushing.bookings.book(
        "manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=ada
    )
    await drain(pushing)
    monkeypatch.delitem(CALENDARS, "maria")
    await pushing.bookings.cancel(other.id, STAFF)
    await drain(pushing)

    assert calendars.calls[-1] == ("remove", "maria-new@example.org", event_id(other.id))
