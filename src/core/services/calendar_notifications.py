"""A linked calendar's push notification in: a sync of that calendar is asked for.

The channel is looked up by its id; the notification's token is checked against the
digest kept of the channel's own (SHA-256, compared in constant time). A good one sets
``calendar_syncs.wanted_at`` and commits before the webhook answers, so a notification
acknowledged is never lost (Google does not send it again); the import reads the calendar
at its next tick. The wait for the database is bounded like the other webhooks' (about
two seconds, then ``StoreUnavailable``: the route answers 503 and Google retries).
"""

from __future__ import annotations

import hmac
import logging

from core.db.calendar_channel_repository import CalendarChannelRepository, token_digest
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock
from core.services.outage import Outage
from core.services.request_bound import RequestBound

log = logging.getLogger("salonbot.google_calendar")

# Compared with when the channel is unknown, so that path costs the same digest and
# comparison as a known one.
_NO_DIGEST = token_digest("")


class StoredCalendarNotifications:
    """``CalendarNotifications`` over ``calendar_syncs``."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, *, bound: RequestBound | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bound = bound or RequestBound(Outage(log, "webhooks: calendar notifications"))

    async def notified(self, channel_id: str, token: str) -> bool:
        return await self._bound(self._store(channel_id, token))

    async def _store(self, channel_id: str, token: str) -> bool:
        async with self._uow() as uow:
            channels = CalendarChannelRepository(uow.connection)
            owner = await channels.owner(channel_id)
            expected = _NO_DIGEST if owner is None else owner.token_digest
            matches = hmac.compare_digest(token_digest(token), expected)
            if owner is None or not matches:
                return False
            if not await channels.want_sync(owner.staff_id, channel_id, self._clock.now()):
                return False  # the channel was closed meanwhile
            await uow.commit()
        return True
