"""A salon with a row in every table: customers who chatted and booked, their inbox and
outbox traffic, history, reminders, calendar pushes and syncs, staff chats, users and
feeds. For the tests that must see all of the data (a backup's round trip, an erasure).

Made through the use cases and repositories; the calendar read-back's sync state and busy
time, which only the import job writes (from Google's answers), by plain inserts, and an
event of ours a read kept through its repository.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.ports import LoginRefused, Role
from core.conversation.messages import Command, Reply, SharedContact
from core.db.calendar_seen_repository import SeenEventRepository
from core.db.inbox_repository import InboxRepository, InboxStatus, NewEvent
from core.db.outbox_repository import OutboxRepository
from core.db.tables import calendar_busy, calendar_syncs, customers, outbound_messages, staff
from core.domain.booking import Actor
from core.domain.catalog import Catalog
from core.domain.timeline import Interval
from core.linked_calendars.ports import CalendarEvent, event_id
from core.ports import DeliveryReport
from core.services.calendar_alerts import AlertKind, raise_alert
from salonbot.bootstrap import Salonbot
from tests.staff_chats import add_customer, link, say

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Maria works Mondays
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)
STAFF = Actor.staff("owner")
CALENDARS = {"maria": "maria@example.org", "olga": "olga@example.org"}


def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
    return CALENDARS.get(staff_key)


@dataclass(frozen=True, slots=True)
class Salon:
    """Who is in it: a customer who chats on Telegram (``chatty``, chat ``CHAT``, named
    "person CHAT" by it, who shared ``CHATTY_PHONE``) and one the front desk added with a
    phone (``walk_in``); each has bookings, ``chatty``'s first on Maria's calendar, the
    second cancelled (taken off it again). Maria's chat (``STAFF_CHAT``) was told of her
    bookings (the first notice sent, the others pending) and asked for her day."""

    chatty: int
    walk_in: int
    chatty_bookings: tuple[int, ...]
    walk_in_booking: int


CHAT = "777000501"  # distinctive: a test searches every table for it
STAFF_CHAT = "900"  # Maria's
CHATTY_PHONE = "+49 151 5550123"
WALK_IN_PHONE = "+49 30 111 222"


async def _customer_of_chat(engine: AsyncEngine, chat: str) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            select(customers.c.id).where(
                customers.c.channel == "telegram", customers.c.external_id == chat
            )
        )
    assert found is not None
    return int(found)


async def fill_every_table(app: Salonbot) -> Salon:
    """Fill ``app``'s database (the demo catalog loaded, ``calendar_of`` linking Maria's
    and Olga's calendars); the pushes are left for the caller's pusher."""
    now = app.clock.now()
    await say(app, CHAT, Command("start"))
    await say(app, CHAT, SharedContact(CHATTY_PHONE))
    chatty = await _customer_of_chat(app.engine, CHAT)
    walk_in = await add_customer(app, "Ada Lovelace", WALK_IN_PHONE)
    # Maria's chat is linked first: the bookings' notices to it name the customers.
    await link(app, "maria", STAFF_CHAT)
    first = await app.bookings.book("manicure", MONDAY_10, STAFF, customer_id=chatty)
    second = await app.bookings.book("pedicure", TUESDAY_11, STAFF, customer_id=chatty)
    await app.bookings.cancel(second.id, STAFF, note="asked by phone")
    third = await app.bookings.book("brow-shaping", WEDNESDAY_12, STAFF, customer_id=walk_in)
    await app.add_time_off(
        "anna", Interval(now + timedelta(days=3), now + timedelta(days=4)), STAFF, "course"
    )
    await say(app, STAFF_CHAT, Command("today"))  # Maria's day, naming its visitors
    await app.staff_links.issue_code("olga")
    await app.accounts.add("owner@example.org", "correct horse battery", Role.OWNER)
    await app.accounts.sign_in("owner@example.org", "correct horse battery", "192.0.2.1")
    with contextlib.suppress(LoginRefused):  # a failure by address is kept
        await app.accounts.sign_in("owner@example.org", "wrong horse", "192.0.2.2")
    await app.feeds.new_link(None, "maria")
    async with app.uow() as uow:
        inbox = InboxRepository(uow.connection)
        await inbox.store_many(
            [
                NewEvent("telegram", "7001", CHAT, {"update_id": 7001, "message": {"text": "hi"}}),
                NewEvent("telegram", "7002", CHAT, {"update_id": 7002, "message": {"text": "?"}}),
                NewEvent("telegram", "7003", "502", {"update_id": 7003, "message": {"text": "x"}}),
            ],
            now,
        )
        events = await inbox.claim_next(now)
        assert events is not None
        await inbox.finish(events.id, InboxStatus.DONE, now)
        outbox = OutboxRepository(uow.connection)
        sent, pending = await outbox.add("telegram", CHAT, [Reply("Hello"), Reply("Bye")], now)
        await outbox.mark_sent(sent, "telegram", "tg-1", now)
        first_notice = await uow.connection.scalar(
            select(func.min(outbound_messages.c.id)).where(
                outbound_messages.c.chat_id == STAFF_CHAT,
                outbound_messages.c.customer_ids.is_not(None),
            )
        )
        assert first_notice is not None
        await outbox.mark_sent(first_notice, "telegram", "tg-2", now)
        await outbox.add("telegram", "502", [Reply("Someone else")], now)
        await outbox.record_delivery(
            DeliveryReport("whatsapp", "wamid.early", "delivered", now), now
        )
        maria = await uow.connection.scalar(select(staff.c.id).where(staff.c.key == "maria"))
        assert maria is not None
        await uow.connection.execute(
            calendar_syncs.insert().values(
                staff_id=maria, calendar_id=CALENDARS["maria"], sync_token="token-1", synced_at=now
            )
        )
        await uow.connection.execute(
            calendar_busy.insert().values(
                staff_id=maria,
                event_id="dentist",
                starts_at=now + timedelta(days=2),
                ends_at=now + timedelta(days=2, hours=1),
            )
        )
        # An event of ours a read kept, not reconciled yet (moved in Google, say).
        moved = CalendarEvent(
            event_id(first.id),
            False,
            start=MONDAY_10 + timedelta(hours=1),
            end=MONDAY_10 + timedelta(hours=2),
            booking_id=first.id,
            updated=now,
        )
        await SeenEventRepository(uow.connection).keep(maria, CALENDARS["maria"], [moved], now)
        catalog = await app.catalogs.current(uow.connection)
        await raise_alert(
            uow.connection,
            catalog,
            staff_key="maria",
            kind=AlertKind.CONFLICT,
            booking_id=first.id,
            event_id="dentist",
            detail="overlaps the dentist",
            at=now,
        )
        await uow.commit()
    assert pending
    return Salon(chatty, walk_in, (first.id, second.id), third.id)
