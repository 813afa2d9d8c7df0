"""Agendas: each linked staff member's day at ``staff_agenda_at`` (08:00 in the demo salon),
claimed once whatever the number of runners, caught up while still useful."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from core.catalog.file import load_catalog_text
from core.domain.booking import Actor
from core.services.agendas import CATCH_UP, QueueAgendas
from core.services.catalog import CatalogReader, load_catalog
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from tests.catalog_cases import drop, edited, without_staff
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.staff_chats import add_customer, link, queued

# Monday 2026-12-07 in Berlin (UTC+1): Maria works, Anna does not, Olga has a day off.
AGENDA_TIME = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 local
MONDAY_START = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # local midnight
MONDAY_END = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
NOTICES = "SELECT s.key, n.status, n.note <> '' FROM scheduled_notices n JOIN staff s"
NOTICES += " ON s.id = n.staff_id ORDER BY s.key, n.occasion"


def _agendas(app: Salonbot) -> QueueAgendas:
    return QueueAgendas(app.uow, app.clock, app.catalogs)


async def _agenda_texts(app: Salonbot, chat_id: str) -> list[str]:
    return [s.text for s in await queued(app.engine, chat_id) if s.priority == 1]


@pytest.fixture
async def linked(app: Salonbot) -> Salonbot:
    """Maria linked in two chats (English, Russian), Anna and Olga in one each."""
    await link(app, "maria", "9001", language="en")
    await link(app, "maria", "9002", language="ru")
    await link(app, "anna", "9003")
    await link(app, "olga", "9004")
    return app


async def test_nothing_is_queued_before_the_agenda_time(linked: Salonbot, clock: FakeClock) -> None:
    clock.set(AGENDA_TIME - timedelta(seconds=1))

    assert await _agendas(linked).run() == 0
    assert await rows(linked.engine, "SELECT count(*) FROM scheduled_notices") == [(0,)]


async def test_each_linked_staff_member_gets_their_day_once_in_each_chat(
    linked: Salonbot, clock: FakeClock
) -> None:
    ada = await add_customer(linked, "Ada", "+4930111222")
    await linked.bookings.book(
        "manicure",
        AGENDA_TIME + timedelta(hours=2),
        Actor.staff("owner"),
        staff_key="maria",
        customer_id=ada,
    )
    clock.set(AGENDA_TIME)

    first = await _agendas(linked).run()
    clock.advance(timedelta(minutes=5))
    again = await _agendas(linked).run()

    assert (first, again) == (1, 0)
    # After the notice of the booking itself:
    assert (await _agenda_texts(linked, "9001"))[1:] == [
        "Monday, 7 December, your bookings:\n10:00\u202fAM Manicure: Ada, +4930111222 (booked)"
    ]
    assert (await _agenda_texts(linked, "9002"))[1:] == [
        "понедельник, 7 декабря, ваши записи:\n10:00 Маникюр: Ada, +4930111222 (записан)"
    ]
    # Anna does not work on Mondays and Olga has a day off: nothing booked, nothing said.
    assert await _agenda_texts(linked, "9003") == []
    assert await _agenda_texts(linked, "9004") == []
    assert await rows(linked.engine, NOTICES) == [
        ("anna", "skipped", True),
        ("maria", "queued", False),
        ("olga", "skipped", True),
    ]
    [_, sent] = [s for s in await queued(linked.engine, "9001") if s.priority == 1]
    assert sent.expires_at == MONDAY_END
    outbox_ids = await rows(
        linked.engine,
        "SELECT n.outbox_id = m.id, n.occasion FROM scheduled_notices n"
        " JOIN outbound_messages m ON m.id = n.outbox_id",
    )
    assert outbox_ids == [(True, MONDAY_START)]


async def test_the_agenda_and_the_notices_record_the_customers_they_name(
    linked: Salonbot, clock: FakeClock
) -> None:
    """``customer forget`` finds a customer's name in a staff chat by them."""
    owner = Actor.staff("owner")
    ada = await add_customer(linked, "Ada", "+4930111222")
    bo = await add_customer(linked, "Bo")
    for hours, customer in ((2.0, ada), (3.5, bo), (5.5, None)):
        await linked.bookings.book(
            "manicure",
            AGENDA_TIME + timedelta(hours=hours),
            owner,
            staff_key="maria",
            customer_id=customer,
        )
    clock.set(AGENDA_TIME)

    assert await _agendas(linked).run() == 1

    named = await rows(
        linked.engine,
        "SELECT customer_ids FROM outbound_messages WHERE chat_id = '9001' AND priority = 1"
        " ORDER BY id",
    )
    assert named == [([ada],), ([bo],), (None,), (sorted([ada, bo]),)]


async def test_a_working_day_with_nothing_booked_gets_a_short_line(
    linked: Salonbot, clock: FakeClock
) -> None:
    clock.set(AGENDA_TIME)

    assert await _agendas(linked).run() == 1
    assert await _agenda_texts(linked, "9001") == ["Monday, 7 December: nothing booked."]


async def test_two_runners_on_two_engines_at_once_queue_each_agenda_once(
    linked: Salonbot, clock: FakeClock, database_url: str
) -> None:
    clock.set(AGENDA_TIME)
    other_engine = make_engine(database_url, pool_size=2)
    try:
        other = QueueAgendas(Salonbot(other_engine, clock).uow, clock, CatalogReader())
        results = await asyncio.gather(_agendas(linked).run(), other.run(), _agendas(linked).run())
    finally:
        await other_engine.dispose()

    assert sorted(results) == [0, 0, 1]
    assert len(await _agenda_texts(linked, "9001")) == 1
    assert len(await _agenda_texts(linked, "9002")) == 1


async def test_a_process_that_was_down_catches_up_while_the_agenda_is_still_useful(
    linked: Salonbot, clock: FakeClock
) -> None:
    clock.set(AGENDA_TIME + CATCH_UP)

    assert await _agendas(linked).run() == 1
    assert len(await _agenda_texts(linked, "9001")) == 1


async def test_a_later_agenda_is_recorded_skipped_and_logged(
    linked: Salonbot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(AGENDA_TIME + CATCH_UP + timedelta(seconds=1))

    with caplog.at_level(logging.INFO, logger="core.services.agendas"):
        assert await _agendas(linked).run() == 0

    assert await _agenda_texts(linked, "9001") == []
    assert ("maria", "skipped", True) in await rows(linked.engine, NOTICES)
    assert "agenda of maria for 2026-12-07 skipped: too late" in caplog.text


async def test_a_process_down_for_a_whole_day_sends_the_new_days_agenda(
    linked: Salonbot, clock: FakeClock
) -> None:
    clock.set(AGENDA_TIME + timedelta(days=1))  # Tuesday 08:00: Anna and Maria work

    assert await _agendas(linked).run() == 2

    statuses = await rows(
        linked.engine,
        "SELECT s.key, n.occasion, n.status FROM scheduled_notices n"
        " JOIN staff s ON s.id = n.staff_id WHERE s.key = 'maria' ORDER BY n.occasion",
    )
    assert statuses == [("maria", MONDAY_START + timedelta(days=1), "queued")]
    assert await _agenda_texts(linked, "9001") == ["Tuesday, 8 December: nothing booked."]


async def test_the_agenda_comes_at_the_local_time_on_a_dst_day(
    linked: Salonbot, clock: FakeClock
) -> None:
    # 2027-03-28: Berlin springs forward; 08:00 local is 06:00 UTC (a Sunday: Olga works).
    clock.set(datetime(2027, 3, 28, 5, 59, tzinfo=UTC))
    assert await _agendas(linked).run() == 0

    clock.set(datetime(2027, 3, 28, 6, 0, tzinfo=UTC))

    assert await _agendas(linked).run() == 1
    assert await _agenda_texts(linked, "9004") == ["Sunday, 28 March: nothing booked."]
    assert await rows(linked.engine, "SELECT DISTINCT occasion FROM scheduled_notices") == [
        (datetime(2027, 3, 27, 23, 0, tzinfo=UTC),)
    ]


async def test_a_salon_without_staff_agenda_at_sends_no_agenda(
    linked: Salonbot, clock: FakeClock
) -> None:
    document, _ = load_catalog_text(edited(drop("staff_agenda_at")))
    await load_catalog(linked.uow, clock, document)
    clock.set(AGENDA_TIME)

    assert await _agendas(linked).run() == 0
    assert await rows(linked.engine, "SELECT count(*) FROM scheduled_notices") == [(0,)]


async def test_without_linked_chats_nothing_is_recorded(app: Salonbot, clock: FakeClock) -> None:
    clock.set(AGENDA_TIME)

    assert await _agendas(app).run() == 0
    assert await rows(app.engine, "SELECT count(*) FROM scheduled_notices") == [(0,)]


async def test_queued_agendas_wake_the_outbox_dispatchers(
    linked: Salonbot, clock: FakeClock
) -> None:
    outbox = Wakeup()
    clock.set(AGENDA_TIME)

    assert await linked.agendas(outbox).run() == 1

    # Returns at once when notified; a dispatcher would otherwise sleep until its next poll.
    await asyncio.wait_for(outbox.wait(3600), timeout=30)


async def test_a_staff_member_the_catalog_dropped_gets_no_agenda(
    linked: Salonbot, clock: FakeClock
) -> None:
    document, _ = load_catalog_text(edited(without_staff("maria")))
    await load_catalog(linked.uow, clock, document)
    clock.set(AGENDA_TIME + timedelta(days=1))  # Tuesday: Anna works, Maria would

    assert await _agendas(linked).run() == 1
    assert await _agenda_texts(linked, "9001") == []
    assert len(await _agenda_texts(linked, "9003")) == 1
