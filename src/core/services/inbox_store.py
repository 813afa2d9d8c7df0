"""The inbox's door: what a webhook route (or a poller) calls to keep an event.

``StoreInbound`` is all a webhook does: one insert, where a redelivery (the same platform
id) changes nothing. Concurrent requests share one transaction (group commit). The wait
is bounded (``RequestBound``): a database that hangs gets the request refused within
about two seconds, never held for a minute. Each transaction is bounded too
(``STORE_WITHIN``): one that never returns (its connection died without a reset) is left
behind, so the next batch starts on another connection instead of every later request
waiting behind it for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from core.db.database_away import database_away
from core.db.inbox_repository import InboxRepository, NewEvent
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock
from core.services.outage import Outage
from core.services.request_bound import RequestBound
from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.inbox")

MAX_WAITING = 20_000
# Seconds one transaction may take before it is left behind. Requests are refused at the
# request bound (2 s) already; this one only frees the store for the batches after it. A
# transaction left behind may still commit: its events are then kept, and redeliveries of
# them are dropped by their platform ids.
STORE_WITHIN = 5.0


class StoreInbound:
    """Stores inbound events durably, many requests per transaction (group commit).

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
        bound: RequestBound | None = None,
        max_batch: int = 500,
        store_within: float = STORE_WITHIN,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._wakeup = wakeup
        self._bound = bound or RequestBound(Outage(log, "storing inbound events"))
        self._max_batch = max_batch
        self._waiting: list[tuple[NewEvent, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._store_within = store_within
        self._monotonic = monotonic
        self._in_flight_since: float | None = None
        self._left_behind: set[asyncio.Task[set[tuple[str, str]]]] = set()

    def stalled(self, after: float) -> bool:
        """Whether a transaction of the store has waited for the database more than
        ``after`` seconds (``/readyz`` says "not ready" then: new requests are refused)."""
        since = self._in_flight_since
        return since is not None and self._monotonic() - since > after

    async def __call__(
        self, channel: str, platform_id: str, chat_key: str, payload: Mapping[str, Any]
    ) -> bool:
        """Store the event durably; False for a redelivery. Wakes the worker.

        Raises ``StoreUnavailable`` when it is not stored within the bound.
        """
        if len(self._waiting) >= MAX_WAITING:
            # More events wait for their commit than the database keeps up with.
            self._bound.refuse(f"{len(self._waiting)} events wait for their commit")
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((NewEvent(channel, platform_id, chat_key, dict(payload)), stored))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await self._bound(stored)

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                new = await self._store([event for event, _ in batch])
            except Exception as error:
                if isinstance(error, TimeoutError):  # the database hangs: each alone would too
                    for _, stored in batch:
                        _fail(stored, error)
                    continue
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
        """One transaction, waited for ``store_within`` at most (``TimeoutError`` past it)."""
        transaction = asyncio.ensure_future(self._transaction(events))
        self._in_flight_since = self._monotonic()
        try:
            async with asyncio.timeout(self._store_within):
                # Shielded: past the bound the flusher moves on without waiting for the
                # transaction's own end, whose rollback may hang on the same connection.
                return await asyncio.shield(transaction)
        except TimeoutError:
            self._leave_behind(transaction)
            raise
        except asyncio.CancelledError:
            self._leave_behind(transaction)
            raise
        finally:
            self._in_flight_since = None

    def _leave_behind(self, transaction: asyncio.Task[set[tuple[str, str]]]) -> None:
        transaction.cancel()  # asyncpg asks the server to cancel; the rollback follows
        self._left_behind.add(transaction)  # kept referenced until it ends
        transaction.add_done_callback(self._ended)

    def _ended(self, transaction: asyncio.Task[set[tuple[str, str]]]) -> None:
        self._left_behind.discard(transaction)
        if not transaction.cancelled():
            transaction.exception()  # read, so a late failure is not "never retrieved"

    async def _transaction(self, events: list[NewEvent]) -> set[tuple[str, str]]:
        async with self._uow() as uow:
            new = await InboxRepository(uow.connection).store_many(events, self._clock.now())
            await uow.commit()
        return new

    async def _store_one_by_one(self, batch: list[tuple[NewEvent, asyncio.Future[bool]]]) -> None:
        away: Exception | None = None
        for event, stored in batch:
            if away is not None:
                _fail(stored, away)
                continue
            try:
                new = await self._store([event])
            except Exception as error:
                if database_away(error):
                    away = error  # not this event's fault: the rest would only wait too
                _fail(stored, error)
                continue
            _settle(stored, (event.channel, event.platform_id) in new)


def _fail(stored: asyncio.Future[bool], error: Exception) -> None:
    if not stored.done():
        stored.set_exception(error)


def _settle(stored: asyncio.Future[bool], new: bool) -> None:
    if not stored.done():  # the request may have gone away meanwhile
        stored.set_result(new)
