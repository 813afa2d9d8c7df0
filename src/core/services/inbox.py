"""The durable inbox: store an event before it is acknowledged, then handle it once.

``StoreInbound`` is all a webhook does: one insert, where a redelivery (the same platform
id) changes nothing. ``InboxWorker`` claims stored events, the head of one chat's queue at
a time, and runs ``converse`` for each in the same transaction that marks it done. So an
event is handled exactly once, in order per chat, and a crash before the commit leaves it
pending for the next claim. A failing event is retried with backoff, then parked as
``failed`` with its error so its chat moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from core.db.inbox_repository import InboundEvent, InboxRepository, NewEvent
from core.db.unit_of_work import NestedUnitOfWorkFactory, UnitOfWork, UnitOfWorkFactory
from core.ports import Clock, Ignored, InboundChannel
from core.services.availability import FindSlots
from core.services.catalog import CatalogReader
from core.services.converse import Converse

log = logging.getLogger("salonbot.inbox")

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 1 s, 2 s, 4 s, ... capped at 5 minutes."""
    delay: timedelta = min(FIRST_RETRY * 2 ** (attempt - 1), LONGEST_RETRY)
    return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret


class Wakeup:
    """An in-process signal: ``notify`` wakes a waiting worker at once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until notified, or ``seconds`` at most (the polling fallback)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()


MAX_WAITING = 20_000


class InboxFull(Exception):
    """More events wait for their commit than the database keeps up with: refuse for now."""


class StoreInbound:
    """Stores webhook events durably, many requests per transaction (group commit).

    A request waits until its event is committed, then learns whether it was new. Events
    arriving while a transaction is in flight go together into the next one, so a burst
    costs a few commits instead of one each. If a batch fails, its events are stored one
    by one, so a single bad event fails alone.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        wakeup: Wakeup,
        *,
        max_batch: int = 500,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._wakeup = wakeup
        self._max_batch = max_batch
        self._waiting: list[tuple[NewEvent, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def __call__(
        self, channel: str, platform_id: str, chat_key: str, payload: Mapping[str, Any]
    ) -> bool:
        """Store the event durably; False for a redelivery. Wakes the worker."""
        if len(self._waiting) >= MAX_WAITING:
            raise InboxFull(len(self._waiting))
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((NewEvent(channel, platform_id, chat_key, dict(payload)), stored))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(stored)

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                new = await self._store([event for event, _ in batch])
            except Exception:
                new = None
            if new is None:
                await self._store_one_by_one(batch)
                continue
            for event, stored in batch:
                key = (event.channel, event.platform_id)
                _settle(stored, key in new)
                new.discard(key)  # a copy later in the same batch is a redelivery
        self._wakeup.notify()

    async def _store(self, events: list[NewEvent]) -> set[tuple[str, str]]:
        async with self._uow() as uow:
            new = await InboxRepository(uow.connection).store_many(events, self._clock.now())
            await uow.commit()
        return new

    async def _store_one_by_one(self, batch: list[tuple[NewEvent, asyncio.Future[bool]]]) -> None:
        for event, stored in batch:
            try:
                new = await self._store([event])
            except Exception as error:
                if not stored.done():
                    stored.set_exception(error)
                continue
            _settle(stored, (event.channel, event.platform_id) in new)


def _settle(stored: asyncio.Future[bool], new: bool) -> None:
    if not stored.done():  # the request may have gone away meanwhile
        stored.set_result(new)


class InboxWorker:
    """Handles stored events until ``stop``; several may run, in one process or many."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        find_slots: FindSlots,
        channels: Mapping[str, InboundChannel],
        wakeup: Wakeup,
        *,
        poll_interval: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
        replies_waiting: Wakeup | None = None,
    ) -> None:
        self._uow = uow_factory
        self._replies_waiting = replies_waiting
        self._clock = clock
        self._catalogs = catalogs
        self._find_slots = find_slots
        self._channels = channels
        self._wakeup = wakeup
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Take no new event; the one in hand is finished (or rolled back) first."""
        self._stopping.set()
        self._wakeup.notify()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.handle_one()
            except Exception:  # the database went away, say: log, wait, go on
                log.exception("inbox worker: claiming an event failed")
                handled = False
            if not handled and not self._stopping.is_set():
                await self._wakeup.wait(self._poll_interval)

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
            try:
                status, reason = await self._handle(uow, event)
            except Exception as error:  # any failure of this event: retried, then parked
                await self._failed(repository, event, error)
            else:
                await repository.finish(event.id, status, self._clock.now(), reason=reason)
                elapsed = (self._clock.now() - started).total_seconds() * 1000
                log.info(
                    "inbound handled" if status == "done" else "inbound ignored",
                    extra=_fields(event, latency_ms=round(elapsed, 1), reason=reason),
                )
            await uow.commit()
        if self._replies_waiting is not None:
            self._replies_waiting.notify()  # the outbox has the replies: send them now
        return True

    async def _handle(self, uow: UnitOfWork, event: InboundEvent) -> tuple[str, str | None]:
        """``done``, or ``ignored`` and why; converse's writes sit in a savepoint of ``uow``."""
        channel = self._channels.get(event.channel)
        if channel is None:
            return "ignored", f"no channel {event.channel!r} in this process"
        await channel.acknowledge(event.payload)  # even a tap we ignore stops spinning
        translated = channel.translate(event.payload)
        if isinstance(translated, Ignored):
            return "ignored", translated.reason
        converse = Converse(
            NestedUnitOfWorkFactory(uow.connection), self._clock, self._catalogs, self._find_slots
        )
        await converse(translated.contact, translated.inbound, channel.capacity)
        return "done", None

    async def _failed(
        self, repository: InboxRepository, event: InboundEvent, error: Exception
    ) -> None:
        attempt = event.attempts + 1
        now = self._clock.now()
        reason = f"{type(error).__name__}: {error}"
        if attempt >= self._max_attempts:
            await repository.failed_attempt(event.id, reason, None, now)
            log.error("inbound parked as failed", extra=_fields(event, error=reason))
        else:
            retry_at = now + retry_delay(attempt)
            await repository.failed_attempt(event.id, reason, retry_at, now)
            log.warning("inbound failed, will retry", extra=_fields(event, error=reason))


def _fields(event: InboundEvent, **more: object) -> dict[str, object]:
    return {
        "channel": event.channel,
        "event_id": event.platform_id,  # Telegram's update_id, WhatsApp's wamid
        "chat": event.chat_key,
        "attempt": event.attempts + 1,
        **more,
    }
