"""Scheduled notices: the messages salonbot sends unasked, each under its unique key.

A visit's reminders (one per rule) and its follow-up are keyed (booking, kind, rule,
occasion); a staff member's agenda (staff, kind, occasion). A notice is planned ``pending``
with the instant it is due, and leaves ``pending`` exactly once: ``queued`` (its outbox
message written in the same transaction), ``skipped`` or ``withdrawn``, each with the
instant and a note saying why. A withdrawn key may be planned again (a visit moved back to
a time it had); a queued or skipped one never is, so no message is sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, bindparam, exists, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.outbox_repository import OutboxStatus
from core.db.tables import (
    bookings,
    conversations,
    customers,
    outbound_messages,
    scheduled_notices,
    services,
    staff,
)
from core.domain.booking import Booking, BookingStatus

notices = scheduled_notices


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    FOLLOW_UP = "follow_up"
    AGENDA = "agenda"


class NoticeStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    """A visit's notice as planned: due at ``due_at``, or recorded ``skipped`` with why."""

    booking_id: int
    kind: NoticeKind
    rule: str
    occasion: datetime
    due_at: datetime
    skipped: str = ""

    @property
    def key(self) -> tuple[int, str, str, datetime]:
        return (self.booking_id, self.kind.value, self.rule, self.occasion)


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A claimed visit notice with what deciding it needs (locked until the commit)."""

    id: int
    kind: NoticeKind
    rule: str
    occasion: datetime
    due_at: datetime
    booking: Booking
    customer_language: str | None
    unreachable: bool
    channel: str | None
    chat_id: str | None
    # Another reminder of the same visit is due too and was due later: only that one goes.
    superseded: bool
    # A reminder of the same visit went already (the first one asked to confirm).
    reminded_before: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """What became of a claimed notice: queued as ``outbox_id``, or skipped or withdrawn
    with ``note``, or postponed to ``due_at`` (still pending)."""

    notice_id: int
    status: NoticeStatus
    note: str = ""
    outbox_id: int | None = None
    due_at: datetime | None = None


class NoticeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def plan(self, planned: Sequence[PlannedNotice], at: datetime) -> None:
        """Record visits' notices as planned.

        A new key is inserted (``pending``, or ``skipped`` with its reason); a ``pending``
        one gets its new due time; a ``withdrawn`` one is revived as planned. A key already
        queued or skipped keeps its decision.
        """
        if not planned:
            return
        rows = [
            {
                "kind": p.kind.value,
                "booking_id": p.booking_id,
                "rule": p.rule,
                "occasion": p.occasion,
                "due_at": p.due_at,
                "status": NoticeStatus.SKIPPED if p.skipped else NoticeStatus.PENDING,
                "note": p.skipped,
                "decided_at": at if p.skipped else None,
                "created_at": at,
            }
            for p in planned
        ]
        statement = insert(notices).values(rows)
        excluded = statement.excluded
        key = [notices.c.booking_id, notices.c.kind, notices.c.rule, notices.c.occasion]
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=key,
                index_where=notices.c.booking_id.is_not(None),
                set_={
                    "due_at": excluded.due_at,
                    "status": excluded.status,
                    "note": excluded.note,
                    "decided_at": excluded.decided_at,
                    "outbox_id": None,
                },
                where=or_(
                    notices.c.status == NoticeStatus.WITHDRAWN,
                    and_(
                        notices.c.status == NoticeStatus.PENDING,
                        excluded.status == NoticeStatus.PENDING,
                    ),
                ),
            )
        )

    async def withdraw(
        self,
        booking_ids: Sequence[int],
        note: str,
        at: datetime,
        *,
        kinds: Sequence[NoticeKind] = (NoticeKind.REMINDER, NoticeKind.FOLLOW_UP),
        keeping: Sequence[tuple[int, str, str, datetime]] = (),
    ) -> int:
        """The visits' pending notices of ``kinds`` (but the keys in ``keeping``) become
        withdrawn with ``note``; how many."""
        if not booking_ids:
            return 0
        query = (
            update(notices)
            .where(
                notices.c.booking_id.in_(list(booking_ids)),
                notices.c.status == NoticeStatus.PENDING,
                notices.c.kind.in_([k.value for k in kinds]),
            )
            .values(status=NoticeStatus.WITHDRAWN, note=note, decided_at=at)
        )
        if keeping:
            key = tuple_(notices.c.booking_id, notices.c.kind, notices.c.rule, notices.c.occasion)
            query = query.where(key.not_in(list(keeping)))
        result = await self._db.execute(query)
        return int(result.rowcount)

    async def unsent_withdrawn(self, booking_id: int, note: str, at: datetime) -> int:
        """The visit's queued notices whose outbox message was withdrawn before it went
        become withdrawn too (so planning the same key again revives it); how many."""
        result = await self._db.execute(
            update(notices)
            .where(
                notices.c.booking_id == booking_id,
                notices.c.status == NoticeStatus.QUEUED,
                notices.c.outbox_id == outbound_messages.c.id,
                outbound_messages.c.status == OutboxStatus.EXPIRED,
            )
            .values(status=NoticeStatus.WITHDRAWN, note=note, decided_at=at)
        )
        return int(result.rowcount)

    async def claim_due(self, now: datetime, limit: int) -> list[DueNotice]:
        """Lock up to ``limit`` due pending visit notices, oldest due first, skipping rows
        another ticker holds; with their booking, customer and the customer's chat (the
        one of their channel identity: salonbot talks in private chats only, where the
        chat is the person)."""
        later = notices.alias("later")
        sent = notices.alias("sent")
        superseded = exists().where(
            later.c.booking_id == notices.c.booking_id,
            later.c.kind == NoticeKind.REMINDER,
            later.c.occasion == notices.c.occasion,
            later.c.status == NoticeStatus.PENDING,
            later.c.due_at <= now,
            or_(
                later.c.due_at > notices.c.due_at,
                and_(later.c.due_at == notices.c.due_at, later.c.id > notices.c.id),
            ),
        )
        # A reminder of this visit went (or is on its way): its message not expired or
        # failed. One that never reached the customer did not ask them anything.
        reminded = exists().where(
            sent.c.booking_id == notices.c.booking_id,
            sent.c.kind == NoticeKind.REMINDER,
            sent.c.occasion == notices.c.occasion,
            sent.c.status == NoticeStatus.QUEUED,
            outbound_messages.c.id == sent.c.outbox_id,
            outbound_messages.c.status.in_([OutboxStatus.PENDING, OutboxStatus.SENT]),
        )
        query = (
            select(
                notices.c.id,
                notices.c.kind,
                notices.c.rule,
                notices.c.occasion,
                notices.c.due_at,
                notices.c.booking_id,
                bookings.c.status.label("booking_status"),
                bookings.c.starts_at,
                bookings.c.ends_at,
                bookings.c.customer_id,
                bookings.c.hold_expires_at,
                bookings.c.customer_confirmed_at,
                bookings.c.version,
                services.c.key.label("service_key"),
                staff.c.key.label("staff_key"),
                customers.c.language,
                customers.c.unreachable_at,
                conversations.c.channel,
                conversations.c.chat_id,
                superseded.label("superseded"),
                reminded.label("reminded_before"),
            )
            .select_from(
                notices.join(bookings, bookings.c.id == notices.c.booking_id)
                .join(services, services.c.id == bookings.c.service_id)
                .join(staff, staff.c.id == bookings.c.staff_id)
                .outerjoin(customers, customers.c.id == bookings.c.customer_id)
                # The customer's chat is their channel identity's (private chats only).
                .outerjoin(
                    conversations,
                    and_(
                        conversations.c.channel == customers.c.channel,
                        conversations.c.chat_id == customers.c.external_id,
                    ),
                )
            )
            .where(
                notices.c.status == NoticeStatus.PENDING,
                notices.c.due_at <= now,
                notices.c.booking_id.is_not(None),
            )
            .order_by(notices.c.due_at, notices.c.id)
            .limit(limit)
            .with_for_update(of=notices, skip_locked=True)
        )
        rows = await self._db.execute(query)
        return [
            DueNotice(
                id=int(r.id),
                kind=NoticeKind(r.kind),
                rule=r.rule,
                occasion=r.occasion,
                due_at=r.due_at,
                booking=Booking(
                    id=int(r.booking_id),
                    customer_id=r.customer_id,
                    service_key=r.service_key,
                    staff_key=r.staff_key,
                    start=r.starts_at,
                    end=r.ends_at,
                    status=BookingStatus(r.booking_status),
                    hold_expires_at=r.hold_expires_at,
                    customer_confirmed_at=r.customer_confirmed_at,
                    version=r.version,
                ),
                customer_language=r.language,
                unreachable=r.unreachable_at is not None,
                channel=r.channel,
                chat_id=r.chat_id,
                superseded=bool(r.superseded),
                reminded_before=bool(r.reminded_before),
            )
            for r in rows
        ]

    async def decide(self, decisions: Sequence[Decision], at: datetime) -> None:
        """Record what became of claimed notices (one round trip for all of them)."""
        decided = [d for d in decisions if d.due_at is None]
        postponed = [d for d in decisions if d.due_at is not None]
        if decided:
            await self._db.execute(
                update(notices)
                .where(notices.c.id == bindparam("notice_id"))
                .values(
                    status=bindparam("new_status"),
                    note=bindparam("new_note"),
                    outbox_id=bindparam("new_outbox_id"),
                    decided_at=at,
                ),
                [
                    {
                        "notice_id": d.notice_id,
                        "new_status": d.status.value,
                        "new_note": d.note,
                        "new_outbox_id": d.outbox_id,
                    }
                    for d in decided
                ],
            )
        if postponed:
            await self._db.execute(
                update(notices)
                .where(notices.c.id == bindparam("notice_id"))
                .values(due_at=bindparam("new_due_at"), note=bindparam("new_note")),
                [
                    {"notice_id": d.notice_id, "new_due_at": d.due_at, "new_note": d.note}
                    for d in postponed
                ],
            )

    async def upcoming_visits(self, now: datetime) -> list[tuple[int, datetime, datetime]]:
        """The confirmed visits that have not started: (booking id, start, end)."""
        rows = await self._db.execute(
            select(bookings.c.id, bookings.c.starts_at, bookings.c.ends_at)
            .where(
                bookings.c.status == BookingStatus.CONFIRMED.value,
                bookings.c.ends_at > now,  # the partial index on confirmed ends
                bookings.c.starts_at > now,
            )
            .order_by(bookings.c.id)
        )
        return [(int(r.id), r.starts_at, r.ends_at) for r in rows]
