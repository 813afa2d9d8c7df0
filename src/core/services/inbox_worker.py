"""The inbox worker: handles each stored event once, in order per chat.

``InboxWorker`` claims stored events, the head of one chat's queue at a time, and runs the
event handler it is given (built in the composition root) in the same transaction that
marks the event done. So an event is handled exactly once, in order per chat, and a crash
before the commit leaves it pending for the next claim. A failing event is retried with
backoff, then parked as ``failed`` with its error so its chat moves on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from core.db.inbox_repository import InboundEvent, InboxRepository, InboxStatus
from core.db.unit_of_work import UnitOfWork, UnitOfWorkFactory
from core.ports import Clock, Ignored, InboundOutcome, NoTally, WorkTally
from core.services.backoff import retry_delay
from core.services.outage import Outage
from core.services.polling_loop import poll_until_stopped
from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.inbox")

MAX_ATTEMPTS = 5


class EventHandler(Protocol):
    async def __call__(self, uow: UnitOfWork, event: InboundEvent) -> Ignored | None:
        """Handle one claimed event inside ``uow``, the claim's transaction (work in
        savepoints of it): None when it is done, ``Ignored(reason)`` when salonbot keeps it
        but does not answer it (the reason is kept on the event's row). Raising counts a
        failed attempt."""
        ...


class InboxWorker:
    """Handles stored events until ``stop``; several may run, in one process or many.

    ``tally`` counts each attempt's outcome once it is committed (monitoring)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        handle: EventHandler,
        wakeup: Wakeup,
        *,
        poll_interval: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
        replies_waiting: Wakeup | None = None,
        outage: Outage | None = None,
        tally: WorkTally | None = None,
    ) -> None:
        self._uow = uow_factory
        self._tally = tally or NoTally()
        self._clock = clock
        self._handle = handle
        self._wakeup = wakeup
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._replies_waiting = replies_waiting
        self.outage = outage or Outage(log, "inbox worker")
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Take no new event; the one in hand is finished (or rolled back) first."""
        self._stopping.set()
        self._wakeup.notify()

    async def run(self) -> None:
        await poll_until_stopped(
            self.handle_one,
            self._stopping,
            self._wakeup,
            self.outage,
            lambda: self._poll_interval,
        )

    async def handle_one(self) -> bool:
        """Claim and handle one due event; False when there is none.

        Whatever goes wrong with the event itself (the channel cannot read it, ``converse``
        raises) is counted against it in the same transaction: retried with backoff, then
        parked, so a poisoned event never blocks its chat for good.
        """
        async with self._uow() as uow:
            repository = InboxRepository(uow.connection)
            event = await repository.claim_next(self._clock.now())
            if event is None:
                return False
            started = self._clock.now()
            if waiting := await repository.waiting_behind(event):
                # The chat writes faster than it is answered: its events queue up.
                log.info("inbound chat busy", extra=_fields(event, waiting=waiting))
            outcome: InboundOutcome
            try:
                ignored = await self._handle(uow, event)
            except Exception as error:  # any failure of this event: retried, then parked
                outcome = await self._failed(repository, event, error)
            else:
                outcome = "handled" if ignored is None else "ignored"
                status = InboxStatus.DONE if ignored is None else InboxStatus.IGNORED
                reason = None if ignored is None else ignored.reason
                await repository.finish(event.id, status, self._clock.now(), reason=reason)
                elapsed = (self._clock.now() - started).total_seconds() * 1000
                log.info(
                    "inbound handled" if ignored is None else "inbound ignored",
                    extra=_fields(event, latency_ms=round(elapsed, 1), reason=reason),
                )
            await uow.commit()
        self._tally.inbound(event.channel, outcome)  # counted once it is kept
        if self._replies_waiting is not None:
            self._replies_waiting.notify()  # the outbox has the replies: send them now
        return True

    async def _failed(
        self, repository: InboxRepository, event: InboundEvent, error: Exception
    ) -> InboundOutcome:
        attempt = event.attempts + 1
        now = self._clock.now()
        reason = f"{type(error).__name__}: {error}"
        if attempt >= self._max_attempts:
            await repository.failed_attempt(event.id, reason, None, now)
            log.error("inbound parked as failed", extra=_fields(event, error=reason))
            return "parked"
        retry_at = now + retry_delay(attempt)
        await repository.failed_attempt(event.id, reason, retry_at, now)
        log.warning("inbound failed, will retry", extra=_fields(event, error=reason))
        return "retried"


def _fields(event: InboundEvent, **more: object) -> dict[str, object]:
    return {
        "channel": event.channel,
        "event_id": event.platform_id,  # Telegram's update_id, WhatsApp's wamid
        "chat": event.chat_key,
        "attempt": event.attempts + 1,
        **more,
    }
