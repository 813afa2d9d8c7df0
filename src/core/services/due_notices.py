"""The scheduler's tick for visits: queue the reminders and follow-ups that are due.

Each batch is one transaction: claim the due pending notices (``FOR UPDATE SKIP LOCKED``,
oldest due first, so any number of processes can tick at once and each notice is decided
by exactly one of them), decide each, write the queued ones to the outbox (priority bulk,
about their booking, expiring when the next quiet hours begin or, for a reminder, when its
visit starts, whichever is first) and record every decision, then commit. A notice
leaves ``pending`` once, in the transaction that writes its message: never sent twice,
never lost.

Deciding is where a process that was down catches up: what is still useful goes late,
the rest is recorded skipped (or withdrawn), and each such decision is logged with why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.conversation.desk_port import pick_language
from core.conversation.messages import Reply
from core.conversation.reminders import follow_up_reply, reminder_reply
from core.conversation.words import offered_languages
from core.db.notice_repository import (
    Decision,
    DueNotice,
    NoticeKind,
    NoticeRepository,
    NoticeStatus,
)
from core.db.outbox_repository import BulkMessage, OutboxRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.booking import BookingStatus
from core.domain.catalog import Catalog
from core.domain.reminders import (
    follow_up_due,
    in_quiet_hours,
    next_quiet_start,
    out_of_quiet_hours,
)
from core.ports import Clock
from core.services.catalog import CatalogReader
from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.notices")

# Notices decided per transaction: large enough that a burst of thousands is a few dozen
# round trips of claiming, small enough that a batch's row locks are held briefly.
BATCH = 200
# Messages rendered between two yields to the event loop (each takes a fraction of a ms).
RENDERED_AT_ONCE = 20
# A follow-up later than this after its time is no longer a thank-you: skipped.
FOLLOW_UP_LATENESS = timedelta(days=1)
# A follow-up whose visit has ended but is not yet recorded completed looks again then.
COMPLETION_WAIT = timedelta(minutes=1)


@dataclass
class TickCounts:
    """What one tick decided."""

    queued: int = 0
    skipped: int = 0
    withdrawn: int = 0
    postponed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def count(self, decision: Decision) -> None:
        if decision.due_at is not None:
            self.postponed += 1
        elif decision.status is NoticeStatus.QUEUED:
            self.queued += 1
        elif decision.status is NoticeStatus.SKIPPED:
            self.skipped += 1
        else:
            self.withdrawn += 1
        if decision.status is not NoticeStatus.QUEUED:
            self.reasons[decision.note] = self.reasons.get(decision.note, 0) + 1


class QueueDueNotices:
    """``run()``: decide every visit notice due now; what was decided."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        *,
        wakeup: Wakeup | None = None,
        batch: int = BATCH,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._wakeup = wakeup
        self._batch = batch

    async def run(self) -> TickCounts:
        counts = TickCounts()
        while True:
            claimed = await self._batch_once(counts)
            if claimed < self._batch:
                break
        if counts.queued or counts.skipped or counts.withdrawn or counts.postponed:
            log.info(
                "notices decided",
                extra={
                    "queued": counts.queued,
                    "skipped": counts.skipped,
                    "withdrawn": counts.withdrawn,
                    "postponed": counts.postponed,
                },
            )
        return counts

    async def _batch_once(self, counts: TickCounts) -> int:
        async with self._uow() as uow:
            connection = uow.connection
            now = self._clock.now()
            notices = NoticeRepository(connection)
            claimed = await notices.claim_due(now, self._batch)
            if not claimed:
                return 0
            catalog = await self._catalogs.current(connection)
            outbox = OutboxRepository(connection)
            decisions: list[Decision] = []
            going: list[DueNotice] = []
            for notice in claimed:
                decision = _decide(notice, catalog, now)
                if decision is None:
                    going.append(notice)
                else:
                    decisions.append(decision)
            # What is not sent before the next quiet hours begin is not sent at all (the
            # dispatcher expires it): a long queue, a platform's "retry after" or a retry's
            # backoff never carries a message into the night.
            quiet = next_quiet_start(now, catalog.reminders.quiet_hours, catalog.salon.zone)
            # One statement for the batch's messages: a burst of thousands is queued in
            # seconds, not one round trip each.
            messages = []
            for n, notice in enumerate(going, start=1):
                messages.append(_message(notice, catalog, quiet))
                if n % RENDERED_AT_ONCE == 0:
                    # Rendering is CPU work on the server's event loop: let a chatting
                    # customer's reply through between slices of it.
                    await asyncio.sleep(0)
            ids = await outbox.add_bulk(messages, now)
            queued = [
                Decision(n.id, NoticeStatus.QUEUED, outbox_id=i)
                for n, i in zip(going, ids, strict=True)
            ]
            await notices.decide(decisions + queued, now)
            await uow.commit()
        # Told once it is so: a batch that failed rolled back and decided nothing.
        by_id = {n.id: n for n in claimed}
        for decision in decisions:
            _log_decision(by_id[decision.notice_id], decision)
        for decision in decisions + queued:
            counts.count(decision)
        if queued and self._wakeup is not None:
            self._wakeup.notify()
        return len(claimed)


def _decide(notice: DueNotice, catalog: Catalog, now: datetime) -> Decision | None:
    """Why the notice does not go now (skipped, withdrawn or postponed); None: it goes."""
    if notice.kind is NoticeKind.REMINDER:
        return _reminder_stops(notice, catalog, now)
    return _follow_up_stops(notice, catalog, now)


def _reminder_stops(notice: DueNotice, catalog: Catalog, now: datetime) -> Decision | None:
    booking = notice.booking
    if booking.status is not BookingStatus.CONFIRMED:
        return _withdrawn(notice, f"the booking is {booking.status.value}, no longer confirmed")
    if booking.start != notice.occasion:
        return _withdrawn(notice, "the visit moved")
    if now >= booking.start:
        return _skipped(notice, "the visit has started")
    if notice.superseded:
        return _skipped(notice, "a later reminder of the same visit is due too")
    if stop := _unreachable(notice):
        return stop
    return _out_of_quiet_hours(notice, catalog, now, deadline=booking.start)


def _follow_up_stops(notice: DueNotice, catalog: Catalog, now: datetime) -> Decision | None:
    booking = notice.booking
    if booking.end != notice.occasion:
        return _withdrawn(notice, "the visit moved")
    if catalog.follow_up is None:
        return _skipped(notice, "follow-ups are no longer set in the catalog")
    quiet, zone = catalog.reminders.quiet_hours, catalog.salon.zone
    latest = follow_up_due(catalog.follow_up, booking.end, quiet, zone) + FOLLOW_UP_LATENESS
    if now > latest:
        return _skipped(notice, "more than a day late for a follow-up")
    if booking.status is BookingStatus.CONFIRMED:
        # Ended, but not recorded completed yet (the visits' tick does that): look again.
        waiting = "the visit is not recorded completed yet"
        return Decision(notice.id, NoticeStatus.PENDING, waiting, due_at=now + COMPLETION_WAIT)
    if booking.status is not BookingStatus.COMPLETED:
        return _withdrawn(notice, f"the booking is {booking.status.value}, not completed")
    if stop := _unreachable(notice):
        return stop
    return _out_of_quiet_hours(notice, catalog, now, deadline=latest)


def _unreachable(notice: DueNotice) -> Decision | None:
    if notice.unreachable:
        return _skipped(notice, "the customer is unreachable on their channel")
    if notice.channel is None or notice.chat_id is None:
        return _skipped(notice, "the customer has no chat with the salon")
    return None


def _out_of_quiet_hours(
    notice: DueNotice, catalog: Catalog, now: datetime, *, deadline: datetime
) -> Decision | None:
    quiet, zone = catalog.reminders.quiet_hours, catalog.salon.zone
    if not in_quiet_hours(now, quiet, zone):
        return None
    later = out_of_quiet_hours(now, deadline, quiet, zone)
    if later is not None and now < later < deadline:
        return Decision(notice.id, NoticeStatus.PENDING, "quiet hours", due_at=later)
    return _skipped(notice, "quiet hours now, and they end too late")


def _message(notice: DueNotice, catalog: Catalog, quiet: datetime | None) -> BulkMessage:
    """The notice's message, in the customer's language; not sent once the quiet hours
    begin (``quiet``, their next start), nor a reminder once its visit has started."""
    assert notice.channel is not None
    assert notice.chat_id is not None
    limits = [quiet] if quiet is not None else []
    if notice.kind is NoticeKind.REMINDER:
        limits.append(notice.booking.start)
    return BulkMessage(
        notice.channel,
        notice.chat_id,
        _reply(notice, catalog),
        booking_id=notice.booking.id,
        expires_at=min(limits, default=None),
    )


def _reply(notice: DueNotice, catalog: Catalog) -> Reply:
    offered = offered_languages(catalog)
    language = notice.customer_language
    if language not in offered:
        language = pick_language(language, offered)
    if notice.kind is NoticeKind.REMINDER:
        # The first reminder that goes asks, unless the customer has said they are coming.
        ask = (
            catalog.reminders.ask_to_confirm
            and not notice.reminded_before
            and notice.booking.customer_confirmed_at is None
        )
        return reminder_reply(catalog, language, notice.booking, ask_to_confirm=ask)
    review_url = catalog.follow_up.review_url if catalog.follow_up is not None else ""
    return follow_up_reply(catalog, language, notice.booking, review_url)


def _skipped(notice: DueNotice, why: str) -> Decision:
    return Decision(notice.id, NoticeStatus.SKIPPED, why)


def _withdrawn(notice: DueNotice, why: str) -> Decision:
    return Decision(notice.id, NoticeStatus.WITHDRAWN, why)


def _log_decision(notice: DueNotice, decision: Decision) -> None:
    what = "postponed" if decision.due_at is not None else decision.status.value
    log.info(
        f"{notice.kind.value} {what}: {decision.note}",
        extra={
            "booking_id": notice.booking.id,
            "rule": notice.rule,
            "due_at": notice.due_at.isoformat(),
            **({"until": decision.due_at.isoformat()} if decision.due_at else {}),
        },
    )
