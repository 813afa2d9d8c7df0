"""Forget a customer on request: erase their personal data, keep their bookings anonymous.

What is erased, in one transaction: the customer's name, phone, channel identity (chat id),
first-contact payload and language; their conversations (the chat's state); every raw
inbound event and every outbound message of their chats (pending ones too); the messages to
staff chats that name them (booking notices, agendas: pending ones deleted, sent ones'
text blanked); and their name and phone in the calendar pushes of their bookings, whose
events already put on a staff member's Google Calendar are queued to be put again without
them. What is kept: the
customer row itself, blank, marked ``forgotten_at`` (bookings name it), their bookings and
each booking's history, for the salon's accounts.

A forgotten customer who writes again is a new customer: nothing links the two.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.booking_repository import BookingRepository
from core.db.calendar_push_repository import CalendarPushRepository
from core.db.erasure_repository import ErasureRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.errors import DomainError
from core.ports import Clock
from core.services.calendar_push import draft
from core.services.catalog import CatalogReader

log = logging.getLogger("salonbot.forget")

MAX_REFERENCE = 200
_CHAT = re.compile(r"([a-z]{1,20}):(\S{1,150})")


class UnknownCustomer(DomainError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"no customer {reference!r}: nothing was erased")
        self.reference = reference


class AmbiguousCustomer(DomainError):
    def __init__(self, reference: str, ids: list[int]) -> None:
        shown = ", ".join(str(i) for i in ids[:20])
        super().__init__(
            f"{reference!r} names {len(ids)} customers (ids {shown}): forget one by its id;"
            " nothing was erased"
        )
        self.ids = ids


class BadCustomerReference(DomainError):
    def __init__(self, reference: str) -> None:
        super().__init__(
            f"{reference[:40]!r} is not a customer: give their id (42), their chat"
            " (telegram:123456789, whatsapp:4915112345678) or their phone (+49 151 1234567)"
        )


@dataclass(frozen=True, slots=True)
class CustomerReference:
    """Who to forget: by customer id, by a chat (channel and chat id) or by phone digits.
    Exactly one of them is set."""

    text: str
    customer_id: int | None = None
    chat: tuple[str, str] | None = None
    phone_digits: str | None = None

    @classmethod
    def parse(cls, text: str) -> CustomerReference:
        """``42`` (an id), ``telegram:123456789`` (a channel and its chat id) or a phone
        number written with its ``+`` (``+49 151 1234567``)."""
        given = text.strip()
        if not given or len(given) > MAX_REFERENCE:
            raise BadCustomerReference(text)
        if given.isascii() and given.isdecimal():
            return cls(given, customer_id=int(given)) if len(given) <= 18 else cls._bad(text)
        if given.startswith("+"):
            digits = re.sub(r"[\s().\-]", "", given[1:])
            if digits.isascii() and digits.isdecimal() and 5 <= len(digits) <= 20:
                return cls(given, phone_digits=digits)
            raise BadCustomerReference(text)
        if found := _CHAT.fullmatch(given):
            return cls(given, chat=(found.group(1), found.group(2)))
        raise BadCustomerReference(text)

    @classmethod
    def _bad(cls, text: str) -> CustomerReference:
        raise BadCustomerReference(text)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What ``ForgetCustomer`` erased, in counts and names of fields (never their values)."""

    customer_id: int
    fields: tuple[str, ...]
    channel: str | None
    conversations: int
    inbound_events: int
    outbound_messages: int
    calendar_pushes_scrubbed: int
    calendar_events_requeued: int
    bookings_kept: int
    forgotten_before: bool
    staff_messages_deleted: int = 0
    staff_messages_blanked: int = 0


class ForgetCustomer:
    """The use case behind ``salonbot customer forget``."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, catalogs: CatalogReader) -> None:
        self._uow = uow
        self._clock = clock
        self._catalogs = catalogs

    async def __call__(self, who: CustomerReference) -> Forgotten:
        now = self._clock.now()
        async with self._uow() as uow:
            erasure = ErasureRepository(uow.connection)
            if who.customer_id is not None:
                ids = await erasure.by_id(who.customer_id)
            elif who.chat is not None:
                ids = await erasure.by_chat(*who.chat)
            else:
                assert who.phone_digits is not None
                ids = await erasure.by_phone(who.phone_digits)
            if not ids:
                raise UnknownCustomer(who.text)
            if len(ids) > 1:
                raise AmbiguousCustomer(who.text, ids)
            customer_id = ids[0]
            # The chats' rows go first, then the customer row: the order in which the
            # inbox worker takes them (event, conversation, customer), so the two never
            # wait for each other in a circle. A message being handled is waited for.
            chats = await erasure.chats_of(customer_id)
            inbound = await erasure.drop_inbound(chats)
            outbound = await erasure.drop_outbound(chats)
            to_staff = await erasure.erase_from_staff_messages(customer_id)
            conversations = await erasure.drop_conversations(customer_id, chats)
            identity = await erasure.blank(customer_id, now)
            scrubbed, requeued = await self._calendars(uow.connection, erasure, customer_id, now)
            kept = len(await erasure.bookings_of(customer_id))
            await uow.commit()
        # For the record that the request was carried out: the id and counts only.
        log.info(
            "customer forgotten",
            extra={
                "customer": customer_id,
                "inbound_events": inbound,
                "outbound_messages": outbound,
                "staff_messages": sum(to_staff),
                "calendar_events_requeued": requeued,
            },
        )
        return Forgotten(
            customer_id,
            identity.erased,
            identity.channel,
            conversations,
            inbound,
            outbound,
            scrubbed,
            requeued,
            kept,
            identity.forgotten_at is not None,
            *to_staff,
        )

    async def _calendars(
        self,
        connection: AsyncConnection,
        erasure: ErasureRepository,
        customer_id: int,
        at: datetime,
    ) -> tuple[int, int]:
        """Blank the customer in every stored calendar push of their bookings, and queue
        each event that is on a calendar to be put again without them (a put replaces the
        event); (pushes blanked, puts queued). Call it after the customer row is blank:
        the events are drawn from it."""
        pushed = await erasure.bookings_with_puts(customer_id)
        if not pushed:
            return 0, 0
        on_calendars = await erasure.events_on_calendars(customer_id)
        catalog = await self._catalogs.current(connection)
        bookings = BookingRepository(connection)
        pushes = CalendarPushRepository(connection)
        scrubbed = requeued = 0
        for booking_id in pushed:
            booking = await bookings.get(booking_id)
            assert booking is not None  # bookings are never deleted
            anonymous = await draft(connection, catalog, booking)
            scrubbed += await erasure.scrub_pushed_events(
                booking_id, anonymous.summary, anonymous.description
            )
            for event in on_calendars:
                if event.booking_id == booking_id:
                    await pushes.add(booking_id, event.staff_key, event.calendar_id, anonymous, at)
                    requeued += 1
        return scrubbed, requeued
