"""The calendar pusher: carries the queued calendar pushes to the staff's linked calendars.

Each run claims the due pushes (``FOR UPDATE SKIP LOCKED``, each the oldest open push of
its booking, fair between calendars) for ``CLAIM_FOR`` and commits the claim; then it
calls the calendars, outside any transaction: each calendar's pushes one after the other,
in the order claimed, different calendars at once (``CALENDARS_AT_ONCE`` at most), so a
calendar that hangs holds up only its own pushes. Each outcome is recorded in a
transaction of its own:

* done;
* refused for now (``CalendarRefused.transient``: 5xx, 429, a timeout): tried again with
  exponential backoff and jitter, never sooner than the calendar's ``retry_after``;
* refused for good, a damaged row, or ``MAX_ATTEMPTS`` tries: parked with its reason
  (kept for the staff page); the booking's later pushes go on.

Runs may overlap (the scheduler's tick; ``run_calendar``, one calendar's pushes, for
each calendar that has some due: ``core.services.calendar_push_wake``): in one process a
calendar is pushed by one run at a time, the others leaving its pushes alone (``busy``),
so a calendar that hangs never holds up another's pushes, and each calendar's pushes
still go one after the other.

A calendar that refused for now is not tried again in the same run: its other pushes
are let go untried, for the next run (a calendar that hangs costs a run one timeout, not
one per push), or, when the calendar said how long to wait (``Retry-After``), until then.

Two pushers never carry out one push at once: a claimed row is skipped until its claim
runs out (a pusher that died), and an outcome recorded after that changes nothing. A put
is idempotent (the event id comes from the booking), so a push carried out twice after a
crash puts the same event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db.calendar_push_repository import CalendarPushRepository, ClaimedPush, PushAction
from core.db.unit_of_work import UnitOfWorkFactory
from core.linked_calendars.ports import CalendarRefused, LinkedCalendars
from core.ports import Clock
from core.services.backoff import retry_delay

log = logging.getLogger(__name__)

CALL_TIMEOUT = 30.0
"""Seconds one call to the calendar may take; longer is a transient failure."""
CLAIM_FOR = timedelta(seconds=CALL_TIMEOUT * 4)
"""How long a claim holds a push: well past a call's timeout."""
MAX_ATTEMPTS = 20
"""Tries before a push is parked: with backoff capped at 5 minutes, about an hour."""
LONGEST_RETRY_AFTER = timedelta(hours=1)
"""A calendar's ``retry_after`` is honoured up to this."""
PUSHES_PER_RUN = 20
CALENDARS_AT_ONCE = 4
"""Calendars called at once in a run: as many as the Google adapter's threads."""


@dataclass(frozen=True, slots=True)
class PushRun:
    """What one run did; ``next_retry``: when the soonest push it put off falls due."""

    done: int = 0
    retried: int = 0
    parked: int = 0
    next_retry: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One push carried out (or not): ``kind`` done, retried or parked; a retried one is
    tried again at ``retry_at``, and the calendar's other pushes wait until ``hold_until``
    (the calendar's ``Retry-After``; None: they go on in the next run)."""

    kind: str
    retry_at: datetime | None = None
    hold_until: datetime | None = None


class CalendarPusher:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendars: LinkedCalendars,
        *,
        limit: int = PUSHES_PER_RUN,
        call_timeout: float = CALL_TIMEOUT,
        calendars_at_once: int = CALENDARS_AT_ONCE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._calendars = calendars
        self._limit = limit
        self._call_timeout = call_timeout
        self._calendars_at_once = calendars_at_once
        # The calendars a run of this process is pushing to now; claimed under the lock,
        # so two runs never take pushes of one calendar at once.
        self._busy: set[str] = set()
        self._claiming = asyncio.Lock()

    async def run(self) -> PushRun:
        """Claim the due pushes (of calendars no other run of this process is pushing to)
        and carry them out (a booking's pushes are claimed one at a time, in order: the
        next on a later run); each calendar's in turn, calendars at once."""
        return await self._claim_and_push(None)

    async def run_calendar(self, calendar_id: str) -> PushRun:
        """``run``, for one calendar's pushes only (nothing when another run of this
        process is pushing to it)."""
        return await self._claim_and_push(calendar_id)

    async def due_calendars(self) -> list[str]:
        """The calendars with pushes due now that no run of this process is pushing to."""
        async with self._uow() as uow:
            return await CalendarPushRepository(uow.connection).due_calendars(
                self._clock.now(), self._busy
            )

    async def _claim_and_push(self, calendar_id: str | None) -> PushRun:
        async with self._claiming:
            if calendar_id in self._busy:
                return PushRun()
            now = self._clock.now()
            async with self._uow() as uow:
                claimed = await CalendarPushRepository(uow.connection).claim(
                    now, now + CLAIM_FOR, self._limit, busy=self._busy, calendar_id=calendar_id
                )
                await uow.commit()
            by_calendar: dict[str, list[ClaimedPush]] = {}
            for push in claimed:
                by_calendar.setdefault(push.calendar_id, []).append(push)
            self._busy.update(by_calendar)
        return await self._push_all(by_calendar)

    async def _push_all(self, by_calendar: dict[str, list[ClaimedPush]]) -> PushRun:
        turns = asyncio.Semaphore(self._calendars_at_once)
        # Every calendar's outcomes are recorded before a failure (the database away) is
        # raised: one calendar's failure never cuts another's push short.
        try:
            ended = await asyncio.gather(
                *(self._push_calendar(pushes, turns) for pushes in by_calendar.values()),
                return_exceptions=True,
            )
        finally:
            self._busy.difference_update(by_calendar)  # also those cut before they began
        outcomes: list[_Outcome] = []
        for result in ended:
            if isinstance(result, BaseException):
                raise result
            outcomes += result
        counts = Counter(outcome.kind for outcome in outcomes)
        retries = [o.retry_at for o in outcomes if o.retry_at is not None]
        retries += [o.hold_until for o in outcomes if o.hold_until is not None]
        return PushRun(
            counts["done"], counts["retried"], counts["parked"], min(retries, default=None)
        )

    async def _push_calendar(
        self, pushes: Sequence[ClaimedPush], turns: asyncio.Semaphore
    ) -> list[_Outcome]:
        """One calendar's claimed pushes, one after the other; the rest are let go when
        the calendar refuses for now or the claim runs short."""
        outcomes: list[_Outcome] = []
        try:
            async with turns:
                await self._push_in_turn(pushes, outcomes)
        finally:
            self._busy.discard(pushes[0].calendar_id)  # free for another run at once
        return outcomes

    async def _push_in_turn(self, pushes: Sequence[ClaimedPush], outcomes: list[_Outcome]) -> None:
        for index, push in enumerate(pushes):
            # A push started this late could outlive its claim: another pusher would take
            # it over and this one's late call could undo a newer push (a put re-made
            # after a remove). Let go, the next run takes it again.
            margin = timedelta(seconds=self._call_timeout * 2)
            if self._clock.now() + margin >= push.claimed_until:
                await self._release(pushes[index:], self._clock.now())
                return
            outcome = await self._push(push)
            outcomes.append(outcome)
            if outcome.retry_at is not None and index + 1 < len(pushes):
                await self._release(pushes[index + 1 :], outcome.hold_until or self._clock.now())
                return

    async def _release(self, pushes: Sequence[ClaimedPush], due_at: datetime) -> None:
        async with self._uow() as uow:
            await CalendarPushRepository(uow.connection).release(pushes, due_at)
            await uow.commit()

    async def _call(self, push: ClaimedPush) -> None:
        if push.action is PushAction.PUT and push.event is not None:
            await self._calendars.put(push.calendar_id, push.event)
        else:
            await self._calendars.remove(push.calendar_id, push.event_id)

    async def _push(self, push: ClaimedPush) -> _Outcome:
        """Carry out one push and record its outcome."""
        refused: CalendarRefused | None = None
        retry_at = hold_until = None
        call = asyncio.ensure_future(self._call(push))
        try:
            try:
                await asyncio.wait_for(asyncio.shield(call), self._call_timeout)
            except TimeoutError:
                # A call in a thread runs on when it is no longer awaited: wait for it while
                # the claim holds, so no later push of this booking overtakes it (a put
                # landing after the remove that followed it would bring the event back).
                left = (push.claimed_until - self._clock.now()).total_seconds()
                await asyncio.wait({call}, timeout=max(0.0, left - self._call_timeout))
                if not call.done():
                    call.cancel()
                    raise
                call.result()
        except CalendarRefused as error:
            refused = error
        except TimeoutError:
            refused = CalendarRefused("no answer in time", transient=True)
        except Exception as error:
            # A bug in the calendar's adapter: tried again like an outage, logged in full.
            log.exception("calendar push %d failed unexpectedly", push.id)
            refused = CalendarRefused(f"unexpected {type(error).__name__}", transient=True)
        now = self._clock.now()
        async with self._uow() as uow:
            pushes = CalendarPushRepository(uow.connection)
            if refused is None:
                await pushes.done(push, now)
                outcome = "done"
            elif refused.transient and push.attempts + 1 < MAX_ATTEMPTS:
                delay = retry_delay(push.attempts + 1)
                if refused.retry_after is not None:
                    asked = timedelta(seconds=max(0.0, refused.retry_after))
                    delay = max(delay, min(asked, LONGEST_RETRY_AFTER))
                    hold_until = now + min(asked, LONGEST_RETRY_AFTER)
                retry_at = now + delay
                await pushes.retry_at(push, retry_at, refused.reason)
                outcome = "retried"
            else:
                reason = refused.reason if not refused.transient else f"gave up: {refused.reason}"
                await pushes.park(push, reason, now)
                outcome = "parked"
            await uow.commit()
        if refused is not None:
            log.warning(
                "calendar push %d of booking %d %s: %s",
                push.id,
                push.booking_id,
                outcome,
                refused.reason,
            )
        return _Outcome(outcome, retry_at, hold_until)
