"""The outbox: replies waiting for their channel's sender, in order per chat."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import Select, and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from core.conversation.messages import Choice, Form, Reply
from core.db.tables import bookings, early_delivery_reports, heads_of_queues, outbound_messages
from core.domain.booking import BookingStatus
from core.ports import DeliveryReport


class OutboxStatus(StrEnum):
    """Where an outbound message is (the values stored in ``outbound_messages.status``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"  # too old to send when its turn came: never sent


class PendingLock(StrEnum):
    """What ``lock_pending`` found of a message whose outcome is to be recorded."""

    LOCKED = "locked"  # still pending, and now locked by this transaction
    HELD = "held"  # still pending, but another session holds its row: try later
    RECORDED = "recorded"  # its outcome is recorded already


class OutboundKind(StrEnum):
    """What an outbound message is (``outbound_messages.kind``)."""

    REPLY = "reply"  # a reply of the conversation, in ``body``
    # A channel's request that the customer write again (WhatsApp: the approved template),
    # queued when a reply was refused because the customer's window had closed.
    WINDOW_REOPENER = "window_reopener"
    # A message as its pre-approved form (``Form``, in ``body["form"]``): queued when a
    # reply that has one was refused because the customer's window had closed.
    TEMPLATE = "template"


class StandIn(StrEnum):
    """What was queued in place of a message refused because the customer's window had
    closed (``OutboxRepository.stand_in_for_refused``)."""

    TEMPLATE = "template"  # the message's own pre-approved form
    REOPENER = "reopener"  # the channel's window reopener (asks the customer to write)
    NOTHING = "nothing"  # a bulk message with no form: the salon does not ask unasked


class Priority(IntEnum):
    """Which messages go first (``outbound_messages.priority``), under the same pacing."""

    CONVERSATION = 0  # a customer is chatting and waiting for this
    BULK = 1  # reminders, follow-ups, staff notices and agendas


# A report on a message salonbot has not recorded as sent is kept this long, then dropped:
# recording a send takes seconds (longer only while the database is away, and then no
# report can be kept either), so older ones are about messages another tool sent.
EARLY_REPORT_LIFETIME = timedelta(hours=1)
EARLY_REPORTS_DROPPED_AT_ONCE = 100


def form_body(form: Form) -> dict[str, Any]:
    return {
        "name": form.name,
        "language": form.language,
        "params": list(form.params),
        "payloads": list(form.payloads),
    }


def form_from_body(body: dict[str, Any]) -> Form:
    """The form stored by ``form_body``; raises (KeyError, TypeError, ValueError) when the
    stored shape is damaged."""
    params = body["params"]
    payloads = body["payloads"]
    if not all(isinstance(p, str) for p in [*params, *payloads]):
        raise ValueError("a form's params and payloads are strings")
    if not isinstance(body["name"], str) or not isinstance(body["language"], str):
        raise ValueError("a form's name and language are strings")
    return Form(body["name"], body["language"], tuple(params), tuple(payloads))


def reply_body(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text": reply.text,
        "choices": [{"id": c.id, "label": c.label} for c in reply.choices],
        "button": reply.button,
    }
    if reply.form is not None:
        body["form"] = form_body(reply.form)
    return body


def reply_from_body(body: dict[str, Any]) -> Reply:
    choices = tuple(Choice(c["id"], c["label"]) for c in body["choices"])
    stored_form = body.get("form")
    form = None if stored_form is None else form_from_body(stored_form)
    return Reply(body["text"], choices, body.get("button", ""), form)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: int
    channel: str
    chat_id: str
    reply: Reply
    attempts: int = 0


DELIVERY_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}


@dataclass(frozen=True, slots=True)
class BulkMessage:
    """One message the salon sends unasked (``OutboxRepository.add_bulk``): to a chat,
    maybe about a visit (``booking_id``), maybe never after ``expires_at``."""

    channel: str
    chat_id: str
    reply: Reply
    booking_id: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row locked for sending; ``body`` is read by the caller (it may be damaged)."""

    id: int
    chat_id: str
    body: dict[str, Any]
    attempts: int
    created_at: datetime
    kind: OutboundKind = OutboundKind.REPLY
    priority: Priority = Priority.CONVERSATION
    # Not to be sent after this instant (None: the dispatcher's shelf life applies).
    expires_at: datetime | None = None


def next_to_claim(
    channel: str,
    now: datetime,
    skip_chats: Sequence[str] = (),
    skip_ids: Sequence[int] = (),
    sending_for: timedelta | None = None,
) -> Select[Any]:
    """The claim's query (``OutboxRepository.claim_next``).

    ``sending_for``: a message marked as being sent (``mark_sending``) less than this long
    ago is not claimed, and neither is the rest of its chat's queue (it is still the head).

    It walks ``ix_outbound_messages_pending_by_priority`` in order and stops at the first
    due head of a chat's queue, so its cost does not grow with a bulk backlog behind the
    conversation's replies.
    """
    query = (
        select(
            outbound_messages.c.id,
            outbound_messages.c.chat_id,
            outbound_messages.c.body,
            outbound_messages.c.attempts,
            outbound_messages.c.created_at,
            outbound_messages.c.kind,
            outbound_messages.c.priority,
            outbound_messages.c.expires_at,
        )
        .where(
            outbound_messages.c.channel == channel,
            outbound_messages.c.status == OutboxStatus.PENDING,
            outbound_messages.c.available_at <= now,
            heads_of_queues(outbound_messages, "chat_id"),
        )
        .order_by(outbound_messages.c.priority, outbound_messages.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=outbound_messages)
    )
    if skip_chats:
        query = query.where(outbound_messages.c.chat_id.not_in(list(skip_chats)))
    if skip_ids:
        query = query.where(outbound_messages.c.id.not_in(list(skip_ids)))
    if sending_for is not None:
        since = outbound_messages.c.sending_since
        query = query.where(or_(since.is_(None), since <= now - sending_for))
    return query


def _unheld_pending(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """The ids of pending messages meeting ``conditions`` that no other session holds,
    locked for the caller's update (one a dispatcher is sending is let go, never waited
    for)."""
    return (
        select(outbound_messages.c.id)
        .where(outbound_messages.c.status == OutboxStatus.PENDING, *conditions)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


class OutboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self,
        channel: str,
        chat_id: str,
        replies: Sequence[Reply],
        at: datetime,
        *,
        priority: Priority = Priority.CONVERSATION,
        booking_id: int | None = None,
        expires_at: datetime | None = None,
        customer_ids: Iterable[int] = (),
    ) -> list[int]:
        """Queue the replies for the chat, in order; their ids.

        ``priority``: BULK for what the salon sends unasked (reminders, notices), claimed
        after every pending conversation reply of the channel. A conversation reply
        raises the chat's pending bulk messages to its priority (they go before it).
        ``booking_id``: the visit the messages are about (``withdraw`` takes them back if
        it moves or ends).
        ``expires_at``: never sent after this instant (else the dispatcher's shelf life).
        ``customer_ids``: the customers the messages name, when the chat is not theirs (a
        staff chat's notice or agenda): ``customer forget`` finds them by it.
        """
        if not replies:
            return []
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        if priority is Priority.CONVERSATION:
            await self._promote_bulk_ahead(channel, chat_id)
        named = sorted(set(customer_ids)) or None
        rows = await self._db.execute(
            outbound_messages.insert()
            .values(
                [
                    {
                        "channel": channel,
                        "chat_id": chat_id,
                        "body": reply_body(reply),
                        "available_at": at,
                        "created_at": at,
                        "priority": int(priority),
                        "booking_id": booking_id,
                        "expires_at": expires_at,
                        "customer_ids": named,
                    }
                    for reply in replies
                ]
            )
            .returning(outbound_messages.c.id)
        )
        return sorted(int(i) for i in rows.scalars())

    async def add_bulk(self, messages: Sequence[BulkMessage], at: datetime) -> list[int]:
        """Queue messages to many chats at priority BULK in one statement (a burst of
        reminders); their ids, in the order given. Each is as ``add`` would queue it."""
        if not messages:
            return []
        if any(m.expires_at is not None and m.expires_at.tzinfo is None for m in messages):
            raise ValueError("expires_at must be timezone-aware")
        rows = await self._db.execute(
            outbound_messages.insert().returning(
                outbound_messages.c.id, sort_by_parameter_order=True
            ),
            [
                {
                    "channel": m.channel,
                    "chat_id": m.chat_id,
                    "body": reply_body(m.reply),
                    "available_at": at,
                    "created_at": at,
                    "priority": int(Priority.BULK),
                    "booking_id": m.booking_id,
                    "expires_at": m.expires_at,
                }
                for m in messages
            ],
        )
        return [int(i) for i in rows.scalars()]

    async def _promote_bulk_ahead(self, channel: str, chat_id: str) -> None:
        """The chat's pending bulk messages go at the conversation's priority: a chat's
        messages keep their order, so a reminder queued before a reply would otherwise
        hold the reply back behind every other chat's bulk. One being sent right now
        (locked) is skipped, not waited for."""
        bulk_ahead = _unheld_pending(
            outbound_messages.c.channel == channel,
            outbound_messages.c.chat_id == chat_id,
            outbound_messages.c.priority == Priority.BULK,
        )
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id.in_(bulk_ahead))
            .values(priority=int(Priority.CONVERSATION))
        )

    async def withdraw(self, booking_id: int, reason: str) -> int:
        """Take back the booking's pending messages (its visit moved or ended): they become
        ``expired`` with ``reason`` and are never sent; how many.

        A message a dispatcher holds right now (being sent) is let go, not waited for: it
        goes out, as it would have a moment earlier.
        """
        pending = _unheld_pending(outbound_messages.c.booking_id == booking_id)
        withdrawn = await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id.in_(pending))
            .values(status=OutboxStatus.EXPIRED, last_error=f"withdrawn: {reason}"[:2000])
            .returning(outbound_messages.c.id)
        )
        return len(withdrawn.all())

    async def take_pending(self, channel: str, chat_id: str, at: datetime) -> list[OutboundMessage]:
        """Mark the chat's pending messages sent and return them, oldest first.

        For a channel that delivers in-process (the terminal): taking is delivering.
        Rows another taker holds are skipped, never sent twice. Messages past their
        ``expires_at`` are marked expired instead.
        """
        in_chat = (outbound_messages.c.channel == channel, outbound_messages.c.chat_id == chat_id)
        late = _unheld_pending(*in_chat, outbound_messages.c.expires_at <= at)
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id.in_(late))
            .values(status=OutboxStatus.EXPIRED, last_error="not sent: expired")
        )
        pending = _unheld_pending(*in_chat, outbound_messages.c.kind == OutboundKind.REPLY)
        rows = await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id.in_(pending))
            .values(status=OutboxStatus.SENT, sent_at=at, attempts=outbound_messages.c.attempts + 1)
            .returning(outbound_messages.c.id, outbound_messages.c.body)
        )
        taken = sorted(rows, key=lambda row: int(row.id))
        return [
            OutboundMessage(int(row.id), channel, chat_id, reply_from_body(row.body))
            for row in taken
        ]

    async def claim_next(
        self,
        channel: str,
        now: datetime,
        skip_chats: Sequence[str] = (),
        skip_ids: Sequence[int] = (),
        sending_for: timedelta | None = None,
    ) -> ClaimedMessage | None:
        """Lock the next due message heading its chat's queue: the lowest ``priority``
        first (a conversation reply before any bulk message), then the oldest. Chats in
        ``skip_chats`` are resting, messages in ``skip_ids`` are held back by the caller;
        rows another dispatcher holds are skipped, and (``sending_for``) rows marked as
        being sent less than that long ago."""
        query = next_to_claim(channel, now, skip_chats, skip_ids, sending_for)
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        return ClaimedMessage(
            int(row.id),
            row.chat_id,
            row.body,
            int(row.attempts),
            row.created_at,
            OutboundKind(row.kind),
            Priority(row.priority),
            row.expires_at,
        )

    async def mark_sending(self, message_id: int, at: datetime) -> None:
        """Mark the message as being sent from ``at`` (committed before the send: it
        outlives a lost connection, and its lock)."""
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(sending_since=at)
        )

    async def lock_pending(self, message_id: int) -> PendingLock:
        """Lock the message if it is still pending, never waiting for another holder:
        ``HELD`` when another session holds it (try again later), ``RECORDED`` when its
        outcome is recorded already."""
        locked = await self._db.scalar(
            select(outbound_messages.c.status)
            .where(outbound_messages.c.id == message_id)
            .with_for_update(skip_locked=True)
        )
        if locked is not None:
            return PendingLock.LOCKED if locked == OutboxStatus.PENDING else PendingLock.RECORDED
        status = await self._db.scalar(
            select(outbound_messages.c.status).where(outbound_messages.c.id == message_id)
        )
        return PendingLock.HELD if status == OutboxStatus.PENDING else PendingLock.RECORDED

    async def mark_sent(
        self, message_id: int, channel: str, platform_message_id: str, at: datetime
    ) -> list[DeliveryReport]:
        """Record the send, then apply what the platform reported of it before (a report
        can beat our commit: we send, then record); the reports that changed it."""
        await self.lock_report_slots([(channel, platform_message_id)])
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(
                status=OutboxStatus.SENT,
                sent_at=at,
                platform_message_id=platform_message_id,
                attempts=outbound_messages.c.attempts + 1,
            )
        )
        return await self._apply_early_reports(channel, platform_message_id, at)

    async def retry_at(
        self, message_id: int, at: datetime, error: str, *, count_attempt: bool = True
    ) -> None:
        attempts = outbound_messages.c.attempts + (1 if count_attempt else 0)
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(available_at=at, last_error=error[:2000], attempts=attempts, sending_since=None)
        )

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(
                status=OutboxStatus.FAILED,
                last_error=error[:2000],
                attempts=outbound_messages.c.attempts + 1,
            )
        )

    async def mark_expired(self, message_id: int, reason: str) -> None:
        """Never to be sent: it waited too long."""
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(status=OutboxStatus.EXPIRED, last_error=reason[:2000])
        )

    async def queue_window_reopener(self, message_id: int) -> int | None:
        """Queue the channel's window reopener for the chat of ``message_id``, a reply
        refused because the customer's window had closed; its id, or None when one is
        already queued after that reply (several refused replies ask once).

        The reopener stands in for the reply: it has the reply's age (so the same expiry
        applies) and is due at once.
        """
        refused = outbound_messages.alias("refused")
        later = outbound_messages.alias("later")
        already = exists().where(
            later.c.channel == refused.c.channel,
            later.c.chat_id == refused.c.chat_id,
            later.c.kind == OutboundKind.WINDOW_REOPENER,
            later.c.id > refused.c.id,
        )
        source = select(
            refused.c.channel,
            refused.c.chat_id,
            literal({}, outbound_messages.c.body.type),
            literal(OutboundKind.WINDOW_REOPENER.value),
            refused.c.available_at,
            refused.c.created_at,
        ).where(
            refused.c.id == message_id,
            refused.c.kind == OutboundKind.REPLY,
            ~already,
        )
        # One at a time per chat, so two reports on two replies do not both queue one.
        # Callers take this lock after any report lock (``lock_report_slots``), never
        # before: a report lock wanted while this one is held could deadlock.
        await self._lock_chat_of(message_id)
        inserted = await self._db.scalar(
            outbound_messages.insert()
            .from_select(
                ["channel", "chat_id", "body", "kind", "available_at", "created_at"], source
            )
            .returning(outbound_messages.c.id)
        )
        return None if inserted is None else int(inserted)

    async def stand_in_for_refused(self, message_id: int) -> StandIn:
        """Queue what goes in place of ``message_id``, refused because the customer's
        window had closed, once however often that is reported:

        * a reply with a form (a reminder): the form, as a ``template`` message with the
          reply's priority, booking, expiry and age, due at once; nothing if its booking
          is no longer confirmed or has changed since the reply was queued;
        * a conversation reply without one: the channel's window reopener
          (``queue_window_reopener``);
        * a bulk reply without one (a follow-up, a staff notice): nothing. Asking a
          customer to write again is for a conversation they are having.

        A refused template or reopener gets nothing (it would be refused the same way).
        Takes the chat's reopener lock: call it after any report lock.
        """
        refused = (
            await self._db.execute(
                select(
                    outbound_messages.c.kind,
                    outbound_messages.c.priority,
                    outbound_messages.c.body,
                    outbound_messages.c.booking_id,
                    outbound_messages.c.created_at,
                ).where(outbound_messages.c.id == message_id)
            )
        ).first()
        if refused is None or refused.kind != OutboundKind.REPLY:
            return StandIn.NOTHING
        form = refused.body.get("form") if isinstance(refused.body, dict) else None
        if form is not None:
            if refused.booking_id is not None and await self._visit_changed_since(
                refused.booking_id, refused.created_at
            ):
                # Withdrawn while it was being sent (``withdraw`` lets that one go): its
                # form would tell of a visit that has moved or ended.
                return StandIn.NOTHING
            await self._queue_form(message_id)
            return StandIn.TEMPLATE
        if refused.priority != Priority.CONVERSATION:
            return StandIn.NOTHING
        await self.queue_window_reopener(message_id)
        return StandIn.REOPENER

    async def _visit_changed_since(self, booking_id: int, at: datetime) -> bool:
        """The booking is no longer confirmed, or has changed (moved) after ``at``.

        Read ``FOR SHARE``: a change of the booking in flight is waited for and its outcome
        read. A plain read could see the booking as it was, and the form queued here would
        then commit after the change had withdrawn the booking's messages: a reminder of
        the old time, sent after all.
        """
        unchanged = await self._db.scalar(
            select(bookings.c.id)
            .where(
                bookings.c.id == booking_id,
                bookings.c.status == BookingStatus.CONFIRMED,
                bookings.c.updated_at <= at,
            )
            .with_for_update(read=True)
        )
        return unchanged is None

    async def _queue_form(self, message_id: int) -> int | None:
        """Queue the form of reply ``message_id`` as a template message; its id, or None
        when one is queued for that reply already."""
        refused = outbound_messages.alias("refused")
        later = outbound_messages.alias("later")
        already = exists().where(
            later.c.channel == refused.c.channel,
            later.c.chat_id == refused.c.chat_id,
            later.c.kind == OutboundKind.TEMPLATE,
            later.c.body["in_place_of"].as_integer() == refused.c.id,
        )
        body = func.jsonb_build_object("form", refused.c.body["form"], "in_place_of", refused.c.id)
        source = select(
            refused.c.channel,
            refused.c.chat_id,
            body,
            literal(OutboundKind.TEMPLATE.value),
            refused.c.available_at,
            refused.c.created_at,
            refused.c.priority,
            refused.c.booking_id,
            refused.c.expires_at,
        ).where(refused.c.id == message_id, ~already)
        await self._lock_chat_of(message_id)
        inserted = await self._db.scalar(
            outbound_messages.insert()
            .from_select(
                [
                    "channel",
                    "chat_id",
                    "body",
                    "kind",
                    "available_at",
                    "created_at",
                    "priority",
                    "booking_id",
                    "expires_at",
                ],
                source,
            )
            .returning(outbound_messages.c.id)
        )
        return None if inserted is None else int(inserted)

    async def in_chat_order(self, message_ids: Iterable[int]) -> list[int]:
        """``message_ids`` sorted by their chat, ``(channel, chat_id)``, then by id (ids
        of no message are left out): the order in which to take their chats' reopener
        locks (``queue_window_reopener``), so two transactions taking several never wait
        for each other in a circle."""
        ids = sorted(set(message_ids))
        if not ids:
            return []
        found = await self._db.execute(
            select(
                outbound_messages.c.id, outbound_messages.c.channel, outbound_messages.c.chat_id
            ).where(outbound_messages.c.id.in_(ids))
        )
        return [row.id for row in sorted(found, key=lambda r: (r.channel, r.chat_id, r.id))]

    async def _lock_chat_of(self, message_id: int) -> None:
        chat = (
            select(func.concat(outbound_messages.c.channel, ":", outbound_messages.c.chat_id))
            .where(outbound_messages.c.id == message_id)
            .scalar_subquery()
        )
        key = func.hashtextextended(func.concat("reopen:", chat), 0)
        await self._db.execute(select(func.pg_advisory_xact_lock(key)))

    async def wait_for_locks_at_most(self, seconds: int) -> None:
        """For the rest of this transaction, a statement waiting longer than ``seconds`` for
        a lock fails instead (``lock_timeout``)."""
        await self._db.execute(select(func.set_config("lock_timeout", f"{int(seconds)}s", True)))

    async def lock_report_slots(self, reports: Iterable[tuple[str, str]]) -> None:
        """Serialize reports with the recording of their messages' sends (transaction-
        scoped), by ``(channel, platform_message_id)``, always in that sorted order, so
        two transactions taking several never wait for each other in a circle.

        Without them a report could find no message (the send not yet committed) and be
        kept as early just after the send's transaction looked for early reports: lost.
        """
        for channel, platform_message_id in sorted(set(reports)):
            key = func.hashtextextended(func.concat(channel, ":", platform_message_id), 0)
            await self._db.execute(select(func.pg_advisory_xact_lock(key)))

    async def record_delivery(self, report: DeliveryReport, now: datetime) -> int | None:
        """Keep what the platform says of a sent message: the id of the message it changed,
        None if it is older news or about a message not recorded as sent (yet).

        Reports can arrive out of order: one is applied only if it is later than the last
        kept (by the platform's timestamp; at the same second, by how far it got). A report
        on a message whose send is not recorded yet is kept and applied when it is. Takes
        the report's lock if the caller has not (``lock_report_slots``).
        """
        await self.lock_report_slots([(report.channel, report.platform_message_id)])
        rank = case(DELIVERY_RANK, value=outbound_messages.c.delivery_status, else_=0)
        newer = or_(
            outbound_messages.c.delivery_at.is_(None),
            outbound_messages.c.delivery_at < report.at,
            and_(
                outbound_messages.c.delivery_at == report.at,
                rank < DELIVERY_RANK.get(report.status, 0),
            ),
        )
        values: dict[str, Any] = {"delivery_status": report.status, "delivery_at": report.at}
        if report.status == "failed":
            values.update(status=OutboxStatus.FAILED, last_error=report.error[:2000])
        updated = await self._db.execute(
            update(outbound_messages)
            .where(
                outbound_messages.c.channel == report.channel,
                outbound_messages.c.platform_message_id == report.platform_message_id,
                newer,
            )
            .values(**values)
            .returning(outbound_messages.c.id)
        )
        changed = updated.first()
        if changed is not None:
            return int(changed.id)
        known = await self._db.scalar(
            select(outbound_messages.c.id).where(
                outbound_messages.c.channel == report.channel,
                outbound_messages.c.platform_message_id == report.platform_message_id,
            )
        )
        if known is None:
            # The platform reported before we recorded the send (we send, then commit):
            # keep it for ``mark_sent``.
            await self._db.execute(
                early_delivery_reports.insert().values(
                    channel=report.channel,
                    platform_message_id=report.platform_message_id,
                    status=report.status,
                    at=report.at,
                    error=report.error[:2000],
                    window_closed=report.window_closed,
                    received_at=now,
                )
            )
            await self.drop_stale_early_reports(now)
        return None

    async def drop_stale_early_reports(self, now: datetime) -> int:
        """Forget a bounded batch of reports kept longer than ``EARLY_REPORT_LIFETIME`` at
        ``now`` (about messages salonbot never sent: another tool on the same number);
        how many. Oldest first."""
        stale = (
            select(early_delivery_reports.c.id)
            .where(early_delivery_reports.c.received_at < now - EARLY_REPORT_LIFETIME)
            .order_by(early_delivery_reports.c.received_at)
            .limit(EARLY_REPORTS_DROPPED_AT_ONCE)
            .with_for_update(skip_locked=True)
        )
        dropped = await self._db.execute(
            delete(early_delivery_reports)
            .where(early_delivery_reports.c.id.in_(stale.scalar_subquery()))
            .returning(early_delivery_reports.c.id)
        )
        return len(dropped.all())

    async def _apply_early_reports(
        self, channel: str, platform_message_id: str, now: datetime
    ) -> list[DeliveryReport]:
        """Apply the reports that came before the send was recorded, then forget them;
        those that changed the message."""
        early = (
            await self._db.execute(
                delete(early_delivery_reports)
                .where(
                    early_delivery_reports.c.channel == channel,
                    early_delivery_reports.c.platform_message_id == platform_message_id,
                )
                .returning(
                    early_delivery_reports.c.status,
                    early_delivery_reports.c.at,
                    early_delivery_reports.c.error,
                    early_delivery_reports.c.window_closed,
                )
            )
        ).all()
        applied = []
        for row in sorted(early, key=lambda r: (r.at, DELIVERY_RANK.get(r.status, 0))):
            report = DeliveryReport(
                channel, platform_message_id, row.status, row.at, row.error, row.window_closed
            )
            if await self.record_delivery(report, now) is not None:
                applied.append(report)
        return applied
