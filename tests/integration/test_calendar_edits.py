"""Our own events edited in Google, on Postgres: a staff member's move of salonbot's event
is applied as their reschedule, or put back with an alert when the rules refuse it; a
deletion cancels the booking and tells the customer, with a Book again button that works;
echoes of salonbot's own writes, a hand-over in flight and copies change nothing.

Bookings and pushes go through the real use cases and the real pusher (the in-memory
calendar); the events are handed to ``seen`` as the calendar import hands them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.messages import Chosen, Command
from core.conversation.state import State
from core.db.calendar_seen_repository import SeenEventRepository
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.db.tables import staff
from core.domain.booking import Actor, Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.timeline import Interval
from core.linked_calendars.edits import RevertReason
from core.linked_calendars.ports import CalendarEvent, OurEventsSeen, event_id
from core.services.calendar_edits import MAX_ATTEMPTS, CalendarEdits
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.db_state import dump_tables, rows
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.staff_chats import say

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Maria works Mondays, 9 to 18
MONDAY_14 = MONDAY_10 + timedelta(hours=4)  # after her break
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Olga's
HOUR = timedelta(hours=1)
TIME_OFF = Interval(MONDAY_10 + 6 * HOUR, MONDAY_10 + 8 * HOUR)  # Maria's, 16:00 to 18:00
OWNER = Actor.staff("owner")
CALENDARS = {"maria": "maria@example.org", "olga": "olga@example.org"}
MARIA, OLGA = CALENDARS["maria"], CALENDARS["olga"]
CHAT = "100"


def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
    return CALENDARS.get(staff_key)


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
async def app(
    clean_engine: AsyncEngine, clock: FakeClock, calendars: FakeLinkedCalendars
) -> Salonbot:
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salonbot.uow, clock, document)
    return salonbot


@pytest.fixture
def edits(app: Salonbot) -> CalendarEdits:
    edits = CalendarEdits(app.uow, app.clock, app.catalogs, app.bookings)
    _: OurEventsSeen = edits  # the port the calendar import is given (mypy checks it)
    return edits


@pytest.fixture
async def eva(app: Salonbot) -> int:
    """A customer who has written to the salon from a Telegram chat."""
    now = app.clock.now()
    async with app.uow() as uow:
        customer_id, _ = await CustomerRepository(uow.connection).for_identity(
            "telegram", CHAT, now, name="Eva", language="en"
        )
        await ConversationRepository(uow.connection).save(
            "telegram", CHAT, customer_id, State().to_json(), None, now
        )
        await uow.commit()
    return customer_id


async def drain(app: Salonbot) -> None:
    """Run the pusher until nothing is due now."""
    assert app.calendar_pusher is not None
    for _ in range(10):
        run = await app.calendar_pusher.run()
        if run.done + run.retried + run.parked == 0:
            return
    raise AssertionError("the pusher never ran dry")


async def booked(app: Salonbot, customer_id: int, start: datetime = MONDAY_10) -> Booking:
    """Maria's manicure for the customer, on her calendar; then a minute passes."""
    booking = await app.bookings.book(
        "manicure", start, OWNER, staff_key="maria", customer_id=customer_id
    )
    await drain(app)
    assert isinstance(app.clock, FakeClock)
    app.clock.advance(timedelta(minutes=1))
    return booking


def in_google(
    booking: Booking,
    start: datetime | None,
    length: timedelta = HOUR,
    *,
    updated: datetime,
    cancelled: bool = False,
    event_id_: str | None = None,
) -> CalendarEvent:
    """Salonbot's event of ``booking`` as a read finds it (``updated``: Google's clock)."""
    return CalendarEvent(
        event_id=event_id_ or event_id(booking.id),
        cancelled=cancelled,
        start=start,
        end=None if start is None else start + length,
        booking_id=booking.id,
        updated=updated,
    )


async def seen(
    app: Salonbot,
    edits: CalendarEdits,
    staff_key: str,
    calendar_id: str,
    events: Sequence[CalendarEvent],
) -> None:
    """Hand ``events`` over as reads of the calendar do, each as a read of its own finds
    it: kept in a transaction, then reconciled."""
    for event in events:
        async with app.uow() as uow:
            connection = uow.connection
            staff_id = await connection.scalar(select(staff.c.id).where(staff.c.key == staff_key))
            assert staff_id is not None
            await SeenEventRepository(connection).keep(
                staff_id, calendar_id, [event], app.clock.now()
            )
            await uow.commit()
        await edits.reconcile(staff_key)


async def visit(app: Salonbot, booking_id: int) -> tuple[Any, ...]:
    [row] = await rows(
        app.engine, f"SELECT status, starts_at, ends_at FROM bookings WHERE id = {booking_id}"
    )
    return row


async def history(app: Salonbot, booking_id: int) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine,
        "SELECT action, actor_kind, actor_ref FROM booking_events"
        f" WHERE booking_id = {booking_id} ORDER BY id",
    )


async def open_pushes(app: Salonbot) -> list[tuple[Any, ...]]:
    """(action, calendar, start, end) of each push waiting."""
    return await rows(
        app.engine,
        "SELECT action, calendar_id, event->>'start', event->>'end' FROM calendar_pushes"
        " WHERE done_at IS NULL AND parked_at IS NULL ORDER BY id",
    )


async def alerts(app: Salonbot) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine, "SELECT kind, booking_id, event_id, detail FROM calendar_alerts ORDER BY id"
    )


async def kept(app: Salonbot) -> list[tuple[Any, ...]]:
    """(booking, attempts, last error, next try, claimed until) of each event of ours
    kept, not reconciled yet."""
    return await rows(
        app.engine,
        "SELECT booking_id, attempts, last_error, next_attempt_at, claimed_until"
        " FROM calendar_seen_events ORDER BY booking_id",
    )


async def told(app: Salonbot) -> list[tuple[str, list[str]]]:
    """(text, choice ids) of each message queued to the customer's chat."""
    found = await rows(
        app.engine, f"SELECT body FROM outbound_messages WHERE chat_id = '{CHAT}' ORDER BY id"
    )
    return [(body["text"], [c["id"] for c in body["choices"]]) for (body,) in found]


async def test_a_move_to_a_free_time_is_applied_as_the_staff_members_reschedule(
    app: Salonbot, edits: CalendarEdits, calendars: FakeLinkedCalendars, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    moved = in_google(booking, TUESDAY_11, updated=clock.now())

    await seen(app, edits, "maria", MARIA, [moved])

    assert await visit(app, booking.id) == ("confirmed", TUESDAY_11, TUESDAY_11 + HOUR)
    assert (await history(app, booking.id))[-1] == ("rescheduled", "staff", "google:maria")
    [(text, choices)] = await told(app)
    assert text.startswith("Studio Lumen has moved your visit of Monday, 7 December at 10:00")
    assert "When: Tuesday, 8 December at 11:00" in text
    assert len(choices) == 3  # confirm, reschedule, cancel the visit as it now is
    # The pushes follow with the same times: harmless, and the event read again is ours.
    assert await open_pushes(app) == [
        ("put", MARIA, TUESDAY_11.isoformat(), (TUESDAY_11 + HOUR).isoformat())
    ]
    settled = await dump_tables(app.engine)
    await seen(app, edits, "maria", MARIA, [moved])  # read again before the put lands
    await drain(app)
    assert calendars.events[MARIA][event_id(booking.id)].start == TUESDAY_11
    settled = await dump_tables(app.engine)
    await seen(
        app, edits, "maria", MARIA, [moved, in_google(booking, TUESDAY_11, updated=clock.now())]
    )
    assert await dump_tables(app.engine) == settled
    assert await alerts(app) == []


async def test_a_move_across_the_change_to_summer_time_keeps_the_chosen_wall_clock_time(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    """Friday 12:00 in Berlin (11:00 UTC) dragged to Monday 11:00, summer time (09:00 UTC)."""
    clock.set(datetime(2027, 3, 25, 6, 0, tzinfo=UTC))
    friday_noon = datetime(2027, 3, 26, 11, 0, tzinfo=UTC)
    monday_11 = datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    booking = await booked(app, eva, friday_noon)

    await seen(app, edits, "maria", MARIA, [in_google(booking, monday_11, updated=clock.now())])

    assert await visit(app, booking.id) == ("confirmed", monday_11, monday_11 + HOUR)
    [(text, _)] = await told(app)
    assert "Friday, 26 March at 12:00\u202fPM" in text
    assert "When: Monday, 29 March at 11:00\u202fAM" in text


@pytest.mark.parametrize(
    ("to", "why"),
    [
        (MONDAY_14, RevertReason.TAKEN),
        (TIME_OFF.start, RevertReason.TAKEN),
        (datetime(2026, 12, 7, 5, 0, tzinfo=UTC), RevertReason.PAST),
        (datetime(2026, 12, 7, 19, 0, tzinfo=UTC), RevertReason.NOT_OFFERED),  # Maria has left
        (MONDAY_10 + timedelta(minutes=7), RevertReason.NOT_OFFERED),  # off the grid
        (datetime(2027, 2, 15, 9, 0, tzinfo=UTC), RevertReason.TOO_FAR),
    ],
)  # fmt: skip
async def test_a_move_the_rules_refuse_is_put_back_and_the_staff_alerted(
    app: Salonbot,
    edits: CalendarEdits,
    calendars: FakeLinkedCalendars,
    clock: FakeClock,
    eva: int,
    to: datetime,
    why: str,
) -> None:
    other = await booked(app, eva, MONDAY_14)
    await app.add_time_off("maria", TIME_OFF, OWNER)
    booking = await booked(app, eva)
    before = await history(app, booking.id)

    await seen(app, edits, "maria", MARIA, [in_google(booking, to, updated=clock.now())])

    assert await visit(app, booking.id) == ("confirmed", MONDAY_10, MONDAY_10 + HOUR)
    assert await history(app, booking.id) == before
    assert await visit(app, other.id) == ("confirmed", MONDAY_14, MONDAY_14 + HOUR)
    assert await open_pushes(app) == [
        ("put", MARIA, MONDAY_10.isoformat(), (MONDAY_10 + HOUR).isoformat())
    ]
    [(kind, about, event, detail)] = await alerts(app)
    assert (kind, about, event) == ("reverted", booking.id, event_id(booking.id))
    assert detail == why
    assert await told(app) == []
    # The pusher patches Google back; the event read again is as salonbot put it.
    mine = calendars.events[MARIA]
    mine[event_id(booking.id)] = replace(mine[event_id(booking.id)], start=to, end=to + HOUR)
    await drain(app)
    assert calendars.events[MARIA][event_id(booking.id)].start == MONDAY_10
    settled = await dump_tables(app.engine)
    clock.advance(timedelta(seconds=1))
    await seen(app, edits, "maria", MARIA, [in_google(booking, MONDAY_10, updated=clock.now())])
    assert await dump_tables(app.engine) == settled


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"start": MONDAY_14, "length": HOUR * 1.5}, RevertReason.LENGTH),
        ({"start": MONDAY_10, "length": HOUR / 2}, RevertReason.LENGTH),
        ({"start": None}, RevertReason.ALL_DAY),
    ],
)  # fmt: skip
async def test_a_new_length_or_an_all_day_event_is_put_back(
    app: Salonbot,
    edits: CalendarEdits,
    clock: FakeClock,
    eva: int,
    event: dict[str, Any],
    why: str,
) -> None:
    booking = await booked(app, eva)
    found = in_google(booking, updated=clock.now(), **event)
    if found.start is None:
        found = CalendarEvent(
            found.event_id,
            cancelled=False,
            first_day=date(2026, 12, 7),
            end_day=date(2026, 12, 8),
            booking_id=booking.id,
            updated=found.updated,
        )

    await seen(app, edits, "maria", MARIA, [found])

    assert await visit(app, booking.id) == ("confirmed", MONDAY_10, MONDAY_10 + HOUR)
    assert await open_pushes(app) == [
        ("put", MARIA, MONDAY_10.isoformat(), (MONDAY_10 + HOUR).isoformat())
    ]
    [(kind, _, _, detail)] = await alerts(app)
    assert (kind, detail) == ("reverted", why)


async def test_a_deletion_cancels_and_the_customer_can_book_again_from_the_notice(
    app: Salonbot, edits: CalendarEdits, calendars: FakeLinkedCalendars, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    del calendars.events[MARIA][event_id(booking.id)]  # the staff member deletes it

    await seen(
        app, edits, "maria", MARIA, [in_google(booking, None, cancelled=True, updated=clock.now())]
    )

    assert (await visit(app, booking.id))[0] == "cancelled"
    assert (await history(app, booking.id))[-1] == ("cancelled", "staff", "google:maria")
    [(text, [book_again])] = await told(app)
    assert text.startswith("Studio Lumen has cancelled your visit:")
    assert "Reason" not in text
    assert await open_pushes(app) == [("remove", MARIA, None, None)]
    await drain(app)  # the remove of an event already gone is done
    assert await open_pushes(app) == []
    assert await alerts(app) == []
    # The button starts a booking, from wherever the chat stands, as often as tapped.
    await say(app, CHAT, Command("start"))
    for _ in range(2):
        reply = await say(app, CHAT, Chosen(book_again))
        assert [c.label for c in reply.choices][:3] == ["Hair", "Nails", "Brows & lashes"]
    reply = await say(app, CHAT, Chosen(reply.choices[1].id))
    assert "Manicure" in [c.label for c in reply.choices]


async def test_a_deleted_visit_that_has_begun_is_left_to_the_desk(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    clock.set(MONDAY_10 + timedelta(minutes=30))
    settled = await dump_tables(app.engine)

    await seen(
        app, edits, "maria", MARIA, [in_google(booking, None, cancelled=True, updated=clock.now())]
    )

    assert await dump_tables(app.engine) == settled


async def test_echoes_of_salonbots_own_writes_change_nothing(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    [(put_done,)] = await rows(app.engine, "SELECT done_at FROM calendar_pushes")
    settled = await dump_tables(app.engine)

    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            # As salonbot put it (its title edited in Google, say).
            in_google(booking, MONDAY_10, updated=clock.now()),
            # Read before salonbot's write landed: an older state of the event.
            in_google(booking, TUESDAY_11, updated=put_done),
            in_google(booking, None, cancelled=True, updated=put_done - HOUR),
        ],
    )

    assert await dump_tables(app.engine) == settled


async def test_nothing_is_followed_while_salonbots_own_change_is_on_its_way(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    await app.bookings.reschedule(booking.id, MONDAY_14, OWNER)  # its put not yet done
    clock.advance(timedelta(minutes=1))
    settled = await dump_tables(app.engine)

    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            in_google(booking, TUESDAY_11, updated=clock.now()),
            in_google(booking, None, cancelled=True, updated=clock.now()),
        ],
    )

    assert await dump_tables(app.engine) == settled


async def test_a_hand_over_in_flight_is_left_to_the_pushes(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    await app.bookings.reschedule(booking.id, WEDNESDAY_12, OWNER, staff_key="olga")
    clock.advance(timedelta(minutes=1))
    deleted = in_google(booking, None, cancelled=True, updated=clock.now())
    moved = in_google(booking, TUESDAY_11, updated=clock.now())
    settled = await dump_tables(app.engine)

    await seen(app, edits, "maria", MARIA, [moved, deleted])  # before the remove from Maria's
    assert await dump_tables(app.engine) == settled

    await drain(app)
    clock.advance(timedelta(minutes=1))
    settled = await dump_tables(app.engine)
    await seen(
        app, edits, "maria", MARIA, [in_google(booking, None, cancelled=True, updated=clock.now())]
    )
    assert await dump_tables(app.engine) == settled
    assert (await visit(app, booking.id))[0] == "confirmed"


async def test_a_hand_over_whose_remove_was_parked_is_left_alone(
    app: Salonbot,
    edits: CalendarEdits,
    calendars: FakeLinkedCalendars,
    clock: FakeClock,
    eva: int,
) -> None:
    """The event stays on Maria's calendar (the staff page shows the parked push); her
    edits of it are not the booking's any more."""
    booking = await booked(app, eva)
    await app.bookings.reschedule(booking.id, WEDNESDAY_12, OWNER, staff_key="olga")
    calendars.refuse_next(1, "calendar not shared with salonbot", transient=False)
    await drain(app)
    clock.advance(timedelta(minutes=1))
    settled = await dump_tables(app.engine)

    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            in_google(booking, TUESDAY_11, updated=clock.now()),
            in_google(booking, None, cancelled=True, updated=clock.now()),
        ],
    )

    assert await dump_tables(app.engine) == settled


async def test_an_event_left_as_salonbot_last_put_it_is_no_move_while_a_later_put_is_parked(
    app: Salonbot,
    edits: CalendarEdits,
    calendars: FakeLinkedCalendars,
    clock: FakeClock,
    eva: int,
) -> None:
    """Google still shows the old time (salonbot's move could not reach it); the staff
    member renames the event: that is not a move back to the old time."""
    booking = await booked(app, eva)
    await app.bookings.reschedule(booking.id, TUESDAY_11, OWNER)
    calendars.refuse_next(1, "calendar not shared with salonbot", transient=False)
    await drain(app)
    clock.advance(timedelta(minutes=1))
    settled = await dump_tables(app.engine)

    await seen(app, edits, "maria", MARIA, [in_google(booking, MONDAY_10, updated=clock.now())])

    assert await dump_tables(app.engine) == settled


async def test_a_copy_of_our_event_under_another_id_never_touches_the_booking(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    settled = await dump_tables(app.engine)
    copy = event_id(booking.id + 1000)

    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            in_google(booking, TUESDAY_11, updated=clock.now(), event_id_=copy),
            in_google(booking, None, cancelled=True, updated=clock.now(), event_id_="copy12345"),
        ],
    )

    assert await dump_tables(app.engine) == settled


async def test_a_cancelled_or_unknown_booking_is_left_alone(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    booking = await booked(app, eva)
    await app.bookings.cancel(booking.id, OWNER)
    await drain(app)
    clock.advance(timedelta(minutes=1))
    unknown = Booking(booking.id + 1, None, "manicure", "maria", MONDAY_10, MONDAY_10 + HOUR,
                      BookingStatus.CONFIRMED)  # fmt: skip
    settled = await dump_tables(app.engine)

    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            in_google(booking, TUESDAY_11, updated=clock.now()),
            in_google(unknown, TUESDAY_11, updated=clock.now()),
        ],
    )

    assert await dump_tables(app.engine) == settled


async def test_one_event_failing_leaves_the_others_reconciled(
    app: Salonbot,
    edits: CalendarEdits,
    clock: FakeClock,
    eva: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    damaged = await booked(app, eva, MONDAY_14)
    booking = await booked(app, eva)
    async with app.engine.begin() as connection:
        await connection.exec_driver_sql(
            f"UPDATE calendar_pushes SET event = '{{}}' WHERE booking_id = {damaged.id}"
        )

    with caplog.at_level(logging.ERROR, "core.services.calendar_edits"):
        await seen(
            app,
            edits,
            "maria",
            MARIA,
            [
                in_google(damaged, TUESDAY_11 + 2 * HOUR, updated=clock.now()),
                in_google(booking, TUESDAY_11, updated=clock.now()),
            ],
        )

    assert await visit(app, damaged.id) == ("confirmed", MONDAY_14, MONDAY_14 + HOUR)
    assert await visit(app, booking.id) == ("confirmed", TUESDAY_11, TUESDAY_11 + HOUR)
    [failed] = caplog.records
    assert failed.getMessage() == (
        f"calendar event {event_id(damaged.id)} of booking {damaged.id} not reconciled"
    )
    # The failed one is kept, to be tried again after a backoff; the other is done.
    [(about, attempts, error, retry_at, claimed)] = await kept(app)
    assert (about, attempts, claimed) == (damaged.id, 1, None)
    assert error.startswith("KeyError")
    assert clock.now() < retry_at <= clock.now() + timedelta(seconds=2)


async def test_an_event_that_keeps_failing_is_retried_then_parked_until_read_changed(
    app: Salonbot, edits: CalendarEdits, clock: FakeClock, eva: int
) -> None:
    damaged = await booked(app, eva)
    [(pushed,)] = await rows(app.engine, "SELECT event::text FROM calendar_pushes")
    async with app.engine.begin() as connection:
        await connection.exec_driver_sql(
            f"UPDATE calendar_pushes SET event = '{{}}' WHERE booking_id = {damaged.id}"
        )
    moved = in_google(damaged, TUESDAY_11, updated=clock.now())
    await seen(app, edits, "maria", MARIA, [moved])
    await edits.reconcile()  # backing off: not tried again yet
    assert [row[1] for row in await kept(app)] == [1]

    for attempt in range(2, MAX_ATTEMPTS + 2):
        clock.advance(timedelta(minutes=6))
        await edits.reconcile()
        assert [row[1] for row in await kept(app)] == [min(attempt, MAX_ATTEMPTS)]
    [(parked_at,)] = await rows(app.engine, "SELECT parked_at FROM calendar_seen_events")
    assert parked_at is not None
    async with app.engine.begin() as connection:  # repaired
        await connection.execute(
            text("UPDATE calendar_pushes SET event = CAST(:event AS jsonb)"), {"event": pushed}
        )
    await seen(app, edits, "maria", MARIA, [moved])  # the same event read again: still parked
    assert [row[1] for row in await kept(app)] == [MAX_ATTEMPTS]

    clock.advance(timedelta(minutes=1))
    await seen(app, edits, "maria", MARIA, [in_google(damaged, TUESDAY_11, updated=clock.now())])
    assert await kept(app) == []
    assert await visit(app, damaged.id) == ("confirmed", TUESDAY_11, TUESDAY_11 + HOUR)


async def test_a_full_read_replaying_every_event_changes_nothing_settled(
    app: Salonbot, edits: CalendarEdits, calendars: FakeLinkedCalendars, clock: FakeClock, eva: int
) -> None:
    followed = await booked(app, eva)
    put_back = await booked(app, eva, MONDAY_14)
    await seen(
        app,
        edits,
        "maria",
        MARIA,
        [
            in_google(followed, TUESDAY_11, updated=clock.now()),
            in_google(put_back, MONDAY_14, HOUR * 2, updated=clock.now()),
        ],
    )
    await drain(app)
    clock.advance(timedelta(hours=1))
    settled = await dump_tables(app.engine)

    # Every event of ours as Google has it now, changed later than any push.
    await seen(app, edits,
        "maria",
        MARIA,
        [
            CalendarEvent(e.event_id, cancelled=False, start=e.start, end=e.end,
                          booking_id=e.booking_id, updated=clock.now())
            for e in calendars.events[MARIA].values()
        ],
    )  # fmt: skip

    assert await dump_tables(app.engine) == settled
    assert len(calendars.events[MARIA]) == 2


async def test_the_import_reads_a_move_and_a_deletion_back_and_they_are_followed(
    app: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, eva: int
) -> None:
    """Through the calendar import, as wired: the read keeps them, ``CalendarEdits``
    reconciles them."""
    calendars.clock = clock.now  # Google's clock, for ``updated``
    booking = await booked(app, eva)
    other = await booked(app, eva, MONDAY_14)
    assert app.calendar_import is not None
    await app.calendar_import.run()  # a full read: everything as salonbot put it
    calendars.owner_move(MARIA, event_id(booking.id), TUESDAY_11, TUESDAY_11 + HOUR)
    calendars.owner_delete(MARIA, event_id(other.id))
    clock.advance(timedelta(minutes=5))  # the next poll: what changed since

    await app.calendar_import.run()

    assert await visit(app, booking.id) == ("confirmed", TUESDAY_11, TUESDAY_11 + HOUR)
    assert (await visit(app, other.id))[0] == "cancelled"
    assert await kept(app) == []
