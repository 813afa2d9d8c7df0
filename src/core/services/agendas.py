"""``QueueAgendas``: each linked staff member's day, at the catalog's ``staff_agenda_at``.

The scheduler calls ``run`` every tick; any number of processes may. An agenda is due at
the local ``staff_agenda_at`` of its day and is claimed once (``AgendaRepository``). A
process that was down sends it late only while it is still useful: within ``CATCH_UP``
of its time and before the day is over; otherwise the claim is recorded as skipped, and
logged.

A staff member with nothing booked gets a short "nothing booked" line on a working day
(silence would leave them wondering whether the bot is down) and nothing on a day off.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Reply
from core.conversation.staff_texts import StaffTexts, named_in
from core.db.agenda_repository import AgendaRepository
from core.db.outbox_repository import OutboxRepository, Priority
from core.db.staff_chat_repository import StaffChat, StaffChatRepository
from core.db.staff_day_repository import StaffDayRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.availability import local_day
from core.domain.catalog import Catalog
from core.domain.reminders import agenda_due
from core.ports import Clock
from core.services.busy_time import local_day_span
from core.services.catalog import CatalogNotLoaded, CatalogReader
from core.services.wakeup import Wakeup

log = logging.getLogger(__name__)

# An agenda later than this after its time is no longer the start of the day's plan.
CATCH_UP = timedelta(hours=3)


class QueueAgendas:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        *,
        wakeup: Wakeup | None = None,
    ) -> None:
        """``wakeup``: the outbox dispatchers', notified after a commit that queued some."""
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._wakeup = wakeup

    async def run(self) -> int:
        """Queue the agendas that are due and not claimed yet, in one transaction; how many
        were queued (one per staff member, whatever their number of chats)."""
        async with self._uow() as uow:
            connection = uow.connection
            try:
                catalog = await self._catalogs.current(connection)
            except CatalogNotLoaded:
                return 0
            if catalog.staff_agenda_at is None:
                return 0
            now = self._clock.now()
            chats = await _chats_by_staff(StaffChatRepository(connection), catalog)
            if not chats:
                return 0
            # Only today's: an agenda is useless once its day is over, so a day the
            # process missed entirely leaves no record (there is no one to tell).
            queued = await self._day(connection, catalog, local_day(now, catalog), chats, now)
            await uow.commit()
        if queued:
            log.info("agendas queued: %d", queued)
            if self._wakeup is not None:
                self._wakeup.notify()
        return queued

    async def _day(
        self,
        connection: AsyncConnection,
        catalog: Catalog,
        day: date,
        chats: dict[int, tuple[str, list[StaffChat]]],
        now: datetime,
    ) -> int:
        assert catalog.staff_agenda_at is not None
        due = agenda_due(day, catalog.staff_agenda_at, catalog.salon.zone)
        if due > now:
            return 0
        span = local_day_span(catalog, day)
        agendas = AgendaRepository(connection)
        done = await agendas.claimed(chats, span.start)
        queued = 0
        for staff_id, (staff_key, staff_chats) in chats.items():
            if staff_id in done:
                continue
            notice_id = await agendas.claim(staff_id, span.start, due, now)
            if notice_id is None:
                continue  # another process claimed it meanwhile
            if now >= span.end or now - due > CATCH_UP:
                note = f"too late: due {due.isoformat()}, the day's plan is stale by now"
                await agendas.skipped(notice_id, note, now)
                log.info("agenda of %s for %s skipped: %s", staff_key, day, note)
                continue
            visits = await StaffDayRepository(connection).visits(staff_id, span)
            if not visits and not catalog.staff[staff_key].periods_on(day):
                await agendas.skipped(notice_id, "a day off with nothing booked", now)
                continue
            outbox = OutboxRepository(connection)
            ids: list[int] = []
            for chat in staff_chats:
                text = StaffTexts(catalog, chat.language).agenda(day, visits)
                ids += await outbox.add(
                    chat.channel,
                    chat.chat_id,
                    [Reply(text)],
                    now,
                    priority=Priority.BULK,
                    expires_at=span.end,
                    customer_ids=named_in(visits),
                )
            await agendas.queued(notice_id, min(ids), now)
            queued += 1
        return queued


async def _chats_by_staff(
    repository: StaffChatRepository, catalog: Catalog
) -> dict[int, tuple[str, list[StaffChat]]]:
    """Linked chats by staff id (with the staff key), of staff the catalog still has, in
    staff id order: concurrent runners claim in one order, so they never deadlock."""
    members = {m.id: m.key for m in await repository.members() if m.active}
    found: dict[int, list[StaffChat]] = defaultdict(list)
    for chat in await repository.all_chats():
        if members.get(chat.staff_id) in catalog.staff:
            found[chat.staff_id].append(chat)
    return {staff_id: (members[staff_id], chats) for staff_id, chats in found.items()}
