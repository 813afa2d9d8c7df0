"""Calendar alerts reach people: raised in the sync's transaction, each is told to the staff
member's linked chats in their languages (a conflict once per booking and event) and shown
on the staff page until someone who may act for that staff member dismisses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core.calendar.desk import NotAllowed
from core.calendar.linked import AlertNotFound
from core.calendar.ports import Role, StaffUser
from core.db.tables import calendar_alerts
from core.domain.booking import Actor, Booking
from core.linked_calendars.edits import RevertReason
from core.services.calendar_alerts import AlertKind, raise_alert
from core.services.staff_notices import NOTICE_FRESH_FOR
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock
from tests.staff_chats import add_customer, link, queued

MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Berlin; Maria works Mondays
STAFF = Actor.staff("owner")
NOTICE = 1  # Priority.BULK
OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
MARIA = StaffUser(2, "maria@salon.test", Role.STAFF, "maria", "en")
ANNA = StaffUser(3, "anna@salon.test", Role.STAFF, "anna", "en")


async def _notices(app: Salonbot, chat_id: str) -> list[str]:
    return [s.text for s in await queued(app.engine, chat_id) if s.priority == NOTICE]


@pytest.fixture
async def booking(app: Salonbot) -> Booking:
    ada = await add_customer(app, "Ada Lovelace", "+4930111222")
    return await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)


async def _raise(
    app: Salonbot,
    booking_id: int | None,
    kind: AlertKind = AlertKind.CONFLICT,
    *,
    event: str = "dentist1",
    detail: str = "",
    staff_key: str = "maria",
    commit: bool = True,
) -> bool:
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
        raised = await raise_alert(
            uow.connection,
            catalog,
            staff_key=staff_key,
            kind=kind,
            booking_id=booking_id,
            event_id=event,
            detail=detail,
            at=app.clock.now(),
        )
        if commit:
            await uow.commit()
    return raised


async def test_a_conflict_is_told_to_each_linked_chat_in_its_language_once(
    app: Salonbot, booking: Booking
) -> None:
    await link(app, "maria", "9001", language="en")
    await link(app, "maria", "9002", language="ru")
    await link(app, "anna", "9003")
    before = {chat: await _notices(app, chat) for chat in ("9001", "9002", "9003")}

    assert await _raise(app, booking.id)
    assert not await _raise(app, booking.id)  # the same event again: told already

    assert (await _notices(app, "9001"))[len(before["9001"]) :] == [
        f"Your Google Calendar event now overlaps booking #{booking.id}: Manicure,"
        " Monday, 7 December at 10:00\u202fAM, Ada.\n"
        "Move your event, or the booking on the staff page."
    ]
    assert (await _notices(app, "9002"))[len(before["9002"]) :] == [
        f"Ваше событие в Google Календаре теперь пересекается с записью №{booking.id}:"
        " Маникюр, понедельник, 7 декабря, 10:00, Ada.\n"
        "Перенесите своё событие или запись на странице для персонала."
    ]
    assert await _notices(app, "9003") == before["9003"]
    sent = [s for s in await queued(app.engine, "9001") if s.priority == NOTICE][-1]
    assert (sent.expires_at, sent.booking_id) == (booking.start, None)

    assert await _raise(app, booking.id, event="dentist2")  # another event: told again
    assert len(await _notices(app, "9001")) == len(before["9001"]) + 2


async def test_a_reverted_move_says_why_in_the_chats_language(
    app: Salonbot, booking: Booking
) -> None:
    await link(app, "maria", "9001", language="en")
    await link(app, "maria", "9002", language="ru")

    assert await _raise(app, booking.id, AlertKind.REVERTED, detail=RevertReason.TAKEN)

    assert (await _notices(app, "9001"))[-1] == (
        f"You changed booking #{booking.id} in Google Calendar; salonbot put it back:"
        " that time is not free (a booking, time off or an event of your own).\n"
        "It stays at its time: Manicure, Monday, 7 December at 10:00\u202fAM, Ada."
    )
    assert (await _notices(app, "9002"))[-1] == (
        f"Вы изменили запись №{booking.id} в Google Календаре; salonbot вернул её как было:"
        " это время занято (другой записью, отгулом или вашим собственным событием).\n"
        "Запись остаётся на своём времени: Маникюр, понедельник, 7 декабря, 10:00, Ada."
    )
    # Two reverts of one booking are two alerts: each move was its own.
    assert await _raise(app, booking.id, AlertKind.REVERTED, detail="a reason of its own")
    assert "put it back: a reason of its own." in (await _notices(app, "9001"))[-1]


async def test_a_notice_for_a_visit_about_to_start_still_has_a_moment_to_go(
    app: Salonbot, booking: Booking, clock: FakeClock
) -> None:
    await link(app, "maria", "9001")
    clock.set(booking.start - timedelta(minutes=1))

    assert await _raise(app, booking.id)

    sent = [s for s in await queued(app.engine, "9001") if s.priority == NOTICE][-1]
    assert sent.expires_at == app.clock.now() + NOTICE_FRESH_FOR


async def test_an_alert_rolled_back_with_its_change_is_neither_kept_nor_told(
    app: Salonbot, booking: Booking
) -> None:
    await link(app, "maria", "9001")
    told = await _notices(app, "9001")

    assert await _raise(app, booking.id, commit=False)

    assert await _notices(app, "9001") == told
    assert await _alert_count(app) == 0


async def test_without_a_linked_chat_the_alert_waits_on_the_staff_page(
    app: Salonbot, booking: Booking
) -> None:
    assert await _raise(app, booking.id)

    assert await _alert_count(app) == 1
    notices = await app.linked_calendars_desk.notices(MARIA)
    [alert] = notices.alerts
    assert (alert.kind, alert.booking_id, alert.staff_key, alert.booking_start) == (
        "conflict",
        booking.id,
        "maria",
        booking.start,
    )


async def test_the_owner_sees_everyones_alerts_a_staff_member_only_their_own(
    app: Salonbot, booking: Booking
) -> None:
    assert await _raise(app, booking.id)
    assert await _raise(app, None, AlertKind.REVERTED, staff_key="anna", detail="x")

    assert [a.staff_key for a in (await app.linked_calendars_desk.notices(OWNER)).alerts] == [
        "maria",
        "anna",
    ]
    assert [a.staff_key for a in (await app.linked_calendars_desk.notices(MARIA)).alerts] == [
        "maria"
    ]
    nobody = StaffUser(4, "temp@salon.test", Role.STAFF, None, "en")
    assert not (await app.linked_calendars_desk.notices(nobody)).linked


async def test_an_alert_is_dismissed_by_its_staff_member_or_the_owner_only(
    app: Salonbot, booking: Booking
) -> None:
    desk = app.linked_calendars_desk
    assert await _raise(app, booking.id)
    [alert] = (await desk.notices(OWNER)).alerts

    with pytest.raises(NotAllowed):
        await desk.dismiss(ANNA, alert.id)
    await desk.dismiss(MARIA, alert.id)

    assert (await desk.notices(OWNER)).alerts == ()
    with pytest.raises(AlertNotFound):
        await desk.dismiss(OWNER, alert.id)  # dismissed already
    async with app.engine.connect() as connection:
        dismissed = await connection.scalar(select(calendar_alerts.c.dismissed_at))
    assert dismissed == app.clock.now()
    # A dismissed conflict stays told: the same event raises nothing again.
    assert not await _raise(app, booking.id)


async def _alert_count(app: Salonbot) -> int:
    async with app.engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM calendar_alerts")) or 0)
