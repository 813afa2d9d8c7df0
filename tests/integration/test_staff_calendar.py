"""The staff calendar's read model on Postgres: the demo salon's days and weeks as staff see
them, with the bookings made in chat and at the desk, holds, time off, breaks and closed
hours, across midnight and a DST change, in two statements whatever the staff."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.hours import DayOutOfRange
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind
from core.catalog.file import load_catalog_text
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor, BookingStatus
from core.domain.errors import UnknownStaff
from core.domain.timeline import Interval
from core.services.catalog import CatalogNotLoaded, load_catalog
from core.services.staff_calendar import StaffCalendar
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import add_exception, edited, put, without_service
from tests.fakes.clock import FakeClock

# Monday 2026-12-07 in Berlin (UTC+1): Maria works 09:00-18:00 (break 13:00-13:30), Anna
# does not work Mondays, Olga has a day off ("Training day").
MONDAY = date(2026, 12, 7)
OWNER = Actor.staff("owner")


def utc(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def calendar(app: Salonbot) -> StaffCalendar:
    return StaffCalendar(app.uow, app.clock, app.catalogs)


async def chat_customer(app: Salonbot, chat_id: str, name: str, phone: str) -> int:
    async with app.uow() as uow:
        customer_id, _ = await CustomerRepository(uow.connection).for_identity(
            "telegram", chat_id, app.clock.now(), name=name, phone=phone
        )
        await uow.commit()
    return customer_id


async def walk_in(app: Salonbot, name: str, phone: str) -> int:
    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(
            name, app.clock.now(), phone=phone
        )
        await uow.commit()
    return customer_id


async def load(app: Salonbot, text: str) -> None:
    document, _ = load_catalog_text(text)
    await load_catalog(app.uow, app.clock, document)


def column(view: DayView, staff_key: str) -> Any:
    [found] = [c for c in view.columns if c.staff_key == staff_key]
    return found


def kinds(shades: tuple[Shade, ...]) -> list[tuple[ShadeKind, datetime, datetime, str]]:
    return [(s.kind, s.start, s.end, s.note) for s in shades]


@contextmanager
def statements(app: Salonbot) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    target = app.engine.sync_engine
    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)


async def test_a_day_shows_every_staff_member_in_catalog_order_with_their_bookings(
    app: Salonbot, clock: FakeClock
) -> None:
    ada = await chat_customer(app, "5001", "Ada", "+4930111222")
    ben = await walk_in(app, "Ben", "+4930333444")
    chat = await app.bookings.book(
        "manicure", utc(7, 9), Actor.customer(ada), staff_key="maria", customer_id=ada
    )
    desk = await app.bookings.book(
        "brow-shaping", utc(7, 13), OWNER, staff_key="maria", customer_id=ben
    )
    held = await app.bookings.hold(
        "pedicure", utc(7, 14), Actor.customer(ada), staff_key="maria", customer_id=ada
    )
    cancelled = await app.bookings.book("manicure", utc(7, 16), OWNER, staff_key="maria")
    await app.bookings.cancel(cancelled.id, OWNER)

    view = await calendar(app).day(MONDAY)

    assert [c.staff_key for c in view.columns] == ["anna", "maria", "olga"]
    assert [c.staff_name for c in view.columns] == ["Anna", "Maria", "Olga"]
    assert (view.day, view.zone.key, view.now) == (MONDAY, "Europe/Berlin", clock.now())
    # Maria's hours are the day's: 09:00 to 18:00 local.
    assert (view.opens, view.closes) == (utc(7, 8), utc(7, 17))
    assert column(view, "maria").bookings == (
        BookingBlock(
            id=chat.id,
            version=1,
            start=utc(7, 9),
            end=utc(7, 10),
            service_key="manicure",
            service_name="Manicure",
            customer_name="Ada",
            customer_phone="+4930111222",
            channel="telegram",
            status=BookingStatus.CONFIRMED,
        ),
        BookingBlock(
            id=desk.id,
            version=1,
            start=utc(7, 13),
            end=utc(7, 13, 30),
            service_key="brow-shaping",
            service_name="Brow shaping",
            customer_name="Ben",
            customer_phone="+4930333444",
            channel="",
            status=BookingStatus.CONFIRMED,
        ),
        BookingBlock(
            id=held.id,
            version=1,
            start=utc(7, 14),
            end=utc(7, 15, 15),
            service_key="pedicure",
            service_name="Pedicure",
            customer_name="Ada",
            customer_phone="+4930111222",
            channel="telegram",
            status=BookingStatus.HELD,
        ),
    )
    assert column(view, "anna").bookings == column(view, "olga").bookings == ()


async def test_a_lapsed_hold_is_gone_from_the_day_even_before_it_is_swept(
    app: Salonbot, clock: FakeClock
) -> None:
    await app.bookings.hold("pedicure", utc(7, 14), OWNER, staff_key="maria")
    clock.advance(timedelta(minutes=10))

    view = await calendar(app).day(MONDAY)

    assert column(view, "maria").bookings == ()


async def test_past_visits_keep_their_outcome_and_a_confirmed_attendance_shows(
    app: Salonbot, clock: FakeClock
) -> None:
    ada = await chat_customer(app, "5001", "Ada", "+4930111222")
    came = await app.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria", customer_id=ada)
    missed = await app.bookings.book("manicure", utc(7, 10, 15), OWNER, staff_key="maria")
    coming = await app.bookings.book(
        "brow-shaping", utc(7, 15), OWNER, staff_key="maria", customer_id=ada
    )
    await app.bookings.confirm_attendance(coming.id, Actor.customer(ada))
    clock.set(utc(7, 12, 30))
    await app.bookings.record_outcome(came.id, OWNER, BookingStatus.COMPLETED)
    await app.bookings.record_outcome(missed.id, OWNER, BookingStatus.NO_SHOW)

    blocks = column(await calendar(app).day(MONDAY), "maria").bookings

    assert [(b.id, b.status, b.customer_confirmed) for b in blocks] == [
        (came.id, BookingStatus.COMPLETED, False),
        (missed.id, BookingStatus.NO_SHOW, False),
        (coming.id, BookingStatus.CONFIRMED, True),
    ]


async def test_breaks_closed_hours_and_day_off_notes_are_shaded_within_the_grid(
    app: Salonbot,
) -> None:
    # Tuesday: Maria 09:00-18:00 (break 13:00-13:30), Anna 10:00-19:00 (break 14:00-14:45),
    # Olga does not work: the grid runs 09:00-19:00 local.
    view = await calendar(app).day(date(2026, 12, 8))

    assert (view.opens, view.closes) == (utc(8, 8), utc(8, 18))
    assert kinds(column(view, "anna").shades) == [
        (ShadeKind.CLOSED, utc(8, 8), utc(8, 9), ""),
        (ShadeKind.BREAK, utc(8, 13), utc(8, 13, 45), ""),
    ]
    assert kinds(column(view, "maria").shades) == [
        (ShadeKind.BREAK, utc(8, 12), utc(8, 12, 30), ""),
        (ShadeKind.CLOSED, utc(8, 17), utc(8, 18), ""),
    ]
    assert kinds(column(view, "olga").shades) == [(ShadeKind.CLOSED, utc(8, 8), utc(8, 18), "")]
    monday = await calendar(app).day(MONDAY)
    assert kinds(column(monday, "olga").shades) == [
        (ShadeKind.CLOSED, utc(7, 8), utc(7, 17), "Training day")
    ]


async def test_time_off_is_shaded_with_its_reason_and_cut_to_the_grid(app: Salonbot) -> None:
    await app.add_time_off("maria", Interval(utc(7, 15), utc(7, 16)), OWNER, "Dentist")
    # Anna is off from Monday noon to Wednesday noon: on Tuesday, all her hours.
    await app.add_time_off("anna", Interval(utc(7, 11), utc(9, 11)), OWNER, "Away")

    monday = await calendar(app).day(MONDAY)
    tuesday = await calendar(app).day(date(2026, 12, 8))

    assert (ShadeKind.TIME_OFF, utc(7, 15), utc(7, 16), "Dentist") in kinds(
        column(monday, "maria").shades
    )
    assert [s for s in kinds(column(monday, "anna").shades) if s[0] is ShadeKind.TIME_OFF] == [
        (ShadeKind.TIME_OFF, utc(7, 11), utc(7, 17), "Away")
    ]
    assert [s for s in kinds(column(tuesday, "anna").shades) if s[0] is ShadeKind.TIME_OFF] == [
        (ShadeKind.TIME_OFF, utc(8, 8), utc(8, 18), "Away")
    ]
    assert [s for s in kinds(column(tuesday, "maria").shades) if s[0] is ShadeKind.TIME_OFF] == []


async def test_a_day_nobody_works_shows_the_salons_most_common_hours(app: Salonbot) -> None:
    # Sunday 2026-12-13 is Olga's alone; given her a day off, nobody works. Monday, Wednesday
    # and Friday run 09:00-20:00: the salon's usual hours.
    await load(app, edited(add_exception(2, "2026-12-13")))

    view = await calendar(app).day(date(2026, 12, 13))

    assert (view.opens, view.closes) == (utc(13, 8), utc(13, 19))
    for staff_day in view.columns:
        assert [s.kind for s in staff_day.shades] == [ShadeKind.CLOSED]


async def test_a_booking_outside_the_hours_widens_the_grid(app: Salonbot) -> None:
    # Booked 17:00-18:00 on Monday, then Maria's Mondays end at 17:00 in a new catalog.
    booked = await app.bookings.book("manicure", utc(7, 16), OWNER, staff_key="maria")
    hours = [{"from": "09:00", "to": "17:00", "breaks": ["13:00-13:30"]}]
    await load(app, edited(put("staff", 1, "hours", "mon", value=hours)))

    view = await calendar(app).day(MONDAY)

    assert (view.opens, view.closes) == (utc(7, 8), utc(7, 17))
    assert [b.id for b in column(view, "maria").bookings] == [booked.id]
    assert (ShadeKind.CLOSED, utc(7, 16), utc(7, 17), "") in kinds(column(view, "maria").shades)


async def test_an_overnight_shift_shows_on_its_own_day_into_the_morning_and_on_the_next(
    app: Salonbot,
) -> None:
    # Maria works Saturday 18:00 to Sunday 02:00 with a break across midnight.
    night = [{"from": "18:00", "to": "02:00", "breaks": ["23:30-00:30"]}]
    await load(app, edited(put("staff", 1, "hours", "sat", value=night)))
    late = await app.bookings.book("manicure", utc(12, 23, 30), OWNER, staff_key="maria")

    saturday = await calendar(app).day(date(2026, 12, 12))
    sunday = await calendar(app).day(date(2026, 12, 13))

    # Saturday: Anna from 10:00 to Maria's 02:00 on Sunday morning.
    assert (saturday.opens, saturday.closes) == (utc(12, 9), utc(13, 1))
    assert kinds(column(saturday, "maria").shades) == [
        (ShadeKind.CLOSED, utc(12, 9), utc(12, 17), ""),
        (ShadeKind.BREAK, utc(12, 22, 30), utc(12, 23, 30), ""),
    ]
    # Sunday: from midnight (the rest of Maria's shift) to Olga's 16:00.
    assert (sunday.opens, sunday.closes) == (utc(12, 23), utc(13, 15))
    assert kinds(column(sunday, "maria").shades) == [
        (ShadeKind.BREAK, utc(12, 23), utc(12, 23, 30), ""),
        (ShadeKind.CLOSED, utc(13, 1), utc(13, 15), ""),
    ]
    assert [b.id for b in column(saturday, "maria").bookings] == [late.id]
    assert [b.id for b in column(sunday, "maria").bookings] == [late.id]


async def test_on_the_spring_dst_day_the_grid_has_the_real_instants(
    app: Salonbot, clock: FakeClock
) -> None:
    # Berlin, Sunday 2027-03-28: 02:00 CET becomes 03:00 CEST. Maria works Saturday night
    # 22:00-06:00: five real hours of it fall on Sunday (00:00 CET to 06:00 CEST); Olga works
    # 11:00-16:00 CEST.
    night = [{"from": "22:00", "to": "06:00"}]
    await load(app, edited(put("staff", 1, "hours", "sat", value=night)))
    clock.set(utc(20, 12, month=3, year=2027))
    early = await app.bookings.book(
        "manicure", utc(28, 1, month=3, year=2027), OWNER, staff_key="maria"
    )

    view = await calendar(app).day(date(2027, 3, 28))

    march = {"month": 3, "year": 2027}
    assert (view.opens, view.closes) == (utc(27, 23, **march), utc(28, 14, **march))
    assert kinds(column(view, "maria").shades) == [
        (ShadeKind.CLOSED, utc(28, 4, **march), utc(28, 14, **march), "")
    ]
    assert kinds(column(view, "olga").shades) == [
        (ShadeKind.CLOSED, utc(27, 23, **march), utc(28, 9, **march), "")
    ]
    # 03:00 CEST to 04:00 CEST.
    [block] = column(view, "maria").bookings
    assert (block.id, block.start, block.end) == (
        early.id,
        utc(28, 1, **march),
        utc(28, 2, **march),
    )


async def test_a_week_runs_monday_to_sunday_with_one_staff_members_column(
    app: Salonbot, clock: FakeClock
) -> None:
    clock.set(utc(1, 12))
    before = await app.bookings.book("manicure", utc(5, 9), OWNER, staff_key="maria")
    monday = await app.bookings.book("manicure", utc(7, 9), OWNER, staff_key="maria")
    saturday = await app.bookings.book("manicure", utc(12, 9), OWNER, staff_key="maria")
    after = await app.bookings.book("manicure", utc(14, 8), OWNER, staff_key="maria")
    await app.bookings.book("womens-haircut", utc(8, 9), OWNER, staff_key="anna")

    week = await calendar(app).week("maria", date(2026, 12, 10))
    from_sunday = await calendar(app).week("maria", date(2026, 12, 13))

    assert (week.staff_key, week.staff_name, week.zone.key) == ("maria", "Maria", "Europe/Berlin")
    assert [d.day for d in week.days] == [date(2026, 12, 7) + timedelta(days=n) for n in range(7)]
    assert all([c.staff_key for c in d.columns] == ["maria"] for d in week.days)
    found = [b.id for d in week.days for c in d.columns for b in c.bookings]
    assert found == [monday.id, saturday.id]
    assert before.id not in found
    assert after.id not in found
    assert from_sunday == week
    # Saturday's grid is Maria's 10:00-15:00; Thursday, her day off, the salon's usual hours.
    assert (week.days[5].opens, week.days[5].closes) == (utc(12, 9), utc(12, 14))
    assert (week.days[3].opens, week.days[3].closes) == (utc(10, 8), utc(10, 19))


async def test_a_week_of_a_staff_key_not_in_the_catalog_is_refused(app: Salonbot) -> None:
    with pytest.raises(UnknownStaff):
        await calendar(app).week("nobody", MONDAY)


@pytest.mark.parametrize("day", [date.min, date(1, 12, 31), date(9999, 1, 1), date.max])
async def test_a_date_at_the_ends_of_the_calendar_is_refused_clearly(
    app: Salonbot, day: date
) -> None:
    with pytest.raises(DayOutOfRange):
        await calendar(app).day(day)
    with pytest.raises(DayOutOfRange):
        await calendar(app).week("maria", day)


async def test_the_first_and_last_days_shown_have_views(app: Salonbot) -> None:
    first = await calendar(app).day(date(2, 1, 1))
    last = await calendar(app).week("maria", date(9998, 12, 31))

    assert first.day == date(2, 1, 1)
    assert date(9998, 12, 31) in [d.day for d in last.days]


async def test_a_day_and_a_week_are_two_statements_whatever_the_staff(app: Salonbot) -> None:
    for hour in (8, 10, 14):
        await app.bookings.book("manicure", utc(7, hour), OWNER, staff_key="maria")
    await app.bookings.book("womens-haircut", utc(8, 9), OWNER, staff_key="anna")
    await app.add_time_off("olga", Interval(utc(7, 10), utc(7, 12)), OWNER)
    service = calendar(app)
    await service.day(MONDAY)  # the catalog, parsed once per version, is read here

    with statements(app) as day_statements:
        await service.day(MONDAY)
    with statements(app) as week_statements:
        await service.week("maria", MONDAY)

    # The catalog's digest, then the bookings and time off of everyone in one query.
    assert len(day_statements) == 2, day_statements
    assert len(week_statements) == 2, week_statements


async def test_a_past_visit_of_a_service_since_removed_shows_by_its_key(
    app: Salonbot, clock: FakeClock
) -> None:
    visit = await app.bookings.book("lash-lift", utc(9, 10), OWNER, staff_key="olga")
    clock.set(utc(10, 12))
    await load(app, edited(without_service("lash-lift")))

    [block] = column(await calendar(app).day(date(2026, 12, 9)), "olga").bookings

    assert (block.id, block.service_key, block.service_name) == (visit.id, "lash-lift", "lash-lift")


async def test_before_a_catalog_is_loaded_the_calendar_says_so(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    empty = Salonbot(clean_engine, clock)

    with pytest.raises(CatalogNotLoaded):
        await calendar(empty).day(MONDAY)
    with pytest.raises(CatalogNotLoaded):
        await calendar(empty).week("maria", MONDAY)
