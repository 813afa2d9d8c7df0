"""Delivery reports: what a platform says happened to the messages it took."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from core.db.outbox_repository import OutboxRepository, StandIn
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock, DeliveryReport

log = logging.getLogger("salonbot.outbox")

# A little past the webhook's 2 s bound: a lock let go just after the 503 still lets the
# reports be kept, and a lock held for long frees the connection soon.
WAIT_FOR_LOCKS_SECONDS = 3


def closes_window(report: DeliveryReport) -> bool:
    """The message failed because the customer's window had closed (WhatsApp's 131047,
    reported after the send call succeeded): its chat gets the window reopener, as when
    the send call itself is refused so."""
    return report.status == "failed" and report.window_closed


async def reopen_windows(
    repository: OutboxRepository, message_ids: Iterable[int]
) -> dict[int, StandIn]:
    """Queue what stands in for each message refused because its window had closed
    (``OutboxRepository.stand_in_for_refused``: its form as a template, else for a
    conversation reply the window reopener, once per chat however many; a bulk message
    without a form gets nothing); what each got. Call it after every report lock is
    taken: it takes a per-chat lock, and a report lock wanted after that could deadlock.
    The chats' locks are taken in ``(channel, chat_id)`` order, so two batches refusing
    messages of the same chats never wait for each other in a circle (message ids order
    them otherwise: messages 1 and 4 of chats a and b, 2 and 3 of chats b and a)."""
    stand_ins: dict[int, StandIn] = {}
    for message_id in await repository.in_chat_order(message_ids):
        stand_ins[message_id] = await repository.stand_in_for_refused(message_id)
        if stand_ins[message_id] is StandIn.NOTHING:
            # A reminder without a form, a follow-up, a staff notice: not sent, and the
            # customer is not asked to write again for it.
            log.warning(
                "outbound outside the window, nothing sent in its place",
                extra={"outbox_id": message_id},
            )
    return stand_ins


class RecordDeliveries:
    """Keep a batch of reports in one transaction; older news than what is kept is skipped.

    Locks, to never deadlock with another batch or the dispatcher: first every report's
    lock, in ``(channel, platform_message_id)`` order, then the rows, then the per-chat
    locks of the window reopeners, in ``(channel, chat_id)`` order.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def __call__(self, reports: Sequence[DeliveryReport]) -> int:
        """How many reports changed a message."""
        if not reports:
            return 0
        changed = 0
        refused: list[int] = []
        in_order = sorted(reports, key=lambda r: (r.channel, r.platform_message_id))
        async with self._uow() as uow:
            # A webhook waits for this: a lock held on an outgoing message (a long send's
            # record, a migration) must end the wait soon, not hold a pooled connection.
            repository = OutboxRepository(uow.connection)
            await repository.wait_for_locks_at_most(WAIT_FOR_LOCKS_SECONDS)
            await repository.lock_report_slots((r.channel, r.platform_message_id) for r in reports)
            now = self._clock.now()
            for report in in_order:
                message_id = await repository.record_delivery(report, now)
                if message_id is not None:
                    changed += 1
                    if closes_window(report):
                        refused.append(message_id)
                if report.status == "failed":
                    log.error(
                        "outbound failed after sending",
                        extra={
                            "channel": report.channel,
                            "platform_message_id": report.platform_message_id,
                            "error": report.error,
                        },
                    )
            await reopen_windows(repository, refused)
            await uow.commit()
        return changed
