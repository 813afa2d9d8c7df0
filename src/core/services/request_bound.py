"""How long a webhook request may wait for the database.

A platform waits up to a minute for our answer and holds the chat's later events
meanwhile; a database that hangs (not down: frozen, or waiting on a lock) must not hold
the request that long. Past the bound the request is refused (503), so the platform
delivers the event again; the work goes on in the background, and if it does commit
after all, the redelivery is dropped by its platform id, so nothing is handled twice.

Work left going in the background holds a pooled connection until it ends. Where many
requests may each leave some (delivery reports waiting on a lock), ``most_at_once`` caps
it: past the cap a request is refused at once, so the pool stays free for the rest.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any, NoReturn, TypeVar

from core.ports import StoreUnavailable
from core.services.outage import Outage

ANSWER_WITHIN = 2.0  # seconds; Telegram and Meta retry a 5xx with backoff

T = TypeVar("T")


class RequestBound:
    """Waits for request-path work ``seconds`` at most; any failure, a timeout included,
    becomes ``StoreUnavailable`` and is told to the ``outage`` (not logged per request).

    With ``most_at_once``, at most that many pieces of work run at a time, those left
    going after their request was refused included; more are refused without starting.
    """

    def __init__(
        self, outage: Outage, seconds: float = ANSWER_WITHIN, *, most_at_once: int | None = None
    ) -> None:
        self.outage = outage
        self.seconds = seconds
        self._most_at_once = most_at_once
        self._running: set[asyncio.Future[Any]] = set()
        self._unfinished: set[asyncio.Future[Any]] = set()

    @property
    def running(self) -> int:
        """How many pieces of work have not ended yet (waited for, or left going)."""
        return len(self._running)

    async def __call__(self, work: Awaitable[T]) -> T:
        if self._most_at_once is not None and len(self._running) >= self._most_at_once:
            if inspect.iscoroutine(work):
                work.close()  # never started: nothing to wait for
            self.refuse(f"{len(self._running)} earlier requests still wait for the database")
        future = asyncio.ensure_future(work)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        try:
            async with asyncio.timeout(self.seconds):
                # Shielded: the bound ends the wait, not the work. Work that commits after
                # the 503 does no harm: the redelivery is dropped by its platform id.
                result = await asyncio.shield(future)
        except TimeoutError:
            self._let_finish(future)
            self.refuse(f"no answer within {self.seconds:g} s")
        except asyncio.CancelledError:  # the request went away (or the server stops)
            self._let_finish(future)
            raise
        except Exception as error:
            self.refuse(error)
        self.outage.succeeded()
        return result

    def refuse(self, cause: BaseException | str) -> NoReturn:
        """Refuse the request now: count it against the outage and raise."""
        self.outage.failed(cause)
        raise StoreUnavailable(cause if isinstance(cause, str) else type(cause).__name__)

    def _let_finish(self, future: asyncio.Future[Any]) -> None:
        # Keep a reference so the work is not garbage-collected mid-way, and read its
        # outcome so a late failure is not reported as "never retrieved".
        self._unfinished.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: asyncio.Future[Any]) -> None:
        self._unfinished.discard(future)
        if not future.cancelled():
            future.exception()
