"""The outbox dispatcher: sends each channel's queued replies, in order per chat, paced.

One dispatcher per channel. It claims the oldest due message heading its chat's queue,
waits for the channel's pacing, sends it through the channel's ``ChannelSender`` and
records the outcome in the same transaction:

* sent: marked sent with the platform's message id;
* the platform asked to slow down (Telegram's 429 ``retry_after``): the chat rests that
  long (at most the shelf life) and the message is tried again, without counting an
  attempt;
* a network error or 5xx: tried again with exponential backoff and jitter (1 s doubling
  to 5 minutes), for as long as the reply is fresh enough to send (see ``SHELF_LIFE``);
* refused for good (the bot was blocked, the chat does not exist): failed, and the
  customer is marked unreachable. No retry loop;
* refused because the customer's window has closed (WhatsApp's 131047): failed, and
  something is queued in its place, once: the reply's own form (a reminder's template)
  when it has one, else for a conversation reply the channel's window reopener (the
  approved template asking the customer to write); a bulk message without a form gets
  nothing (logged).

Conversation replies go before bulk messages (reminders, notices): the claim takes the
lowest priority first, under the same pacing. A message of kind ``template`` is sent
through the sender's ``send_form``.

A message past its ``expires_at`` when its turn comes (a reminder whose visit has
started), or without one older than ``SHELF_LIFE``, is marked expired and not sent; its
turn is looked at again once the pacing lets it go, since waiting for a token (behind a
platform's "retry after", or while conversation replies go first) can outlast it.

An outcome the database could not record (it went away after the platform took the
message) is kept in memory, recorded as soon as the database answers, and its message is
never sent again meanwhile; its chat waits, other chats go on. If its row is still locked
by a session the database has not ended yet, it is recorded on a later turn, never waited
for. An outcome that fails to record for another reason (a bug, not an outage) is given
up with an error line and its message marked failed, so it is neither sent again nor
blocking its chat.

Every recorded outcome (and every expiry) is counted by the dispatcher's ``WorkTally``,
once it is committed.

At ``stop`` no new message is claimed, and a send in flight is finished and recorded (a
send takes at most ``SEND_TIMEOUT``; ``stop_grace`` is how long stopping may take). Two
cases remain that send a message twice: a crash (or a kill) after the platform took it
and before it was recorded, and a network error or timeout on a send the platform did
take. Telegram offers no idempotency key to prevent them.

Several processes on one database (``salonbot.leadership``): ``may_send`` is asked right
before each send, after the pacing's wait; while it says no (this process no longer leads
its channel) the claim is let go and the message waits, untouched. ``resume`` lets a
stopped dispatcher ``run`` again, its pacing and its unrecorded outcomes kept, and
``record_kept`` records those outcomes when it is not running. With ``mark_sending``
each send is preceded by a committed mark on its row (the claim's lock is let go and taken
again around it), and the claim leaves a message marked less than ``SEND_TIMEOUT`` plus
``RECORDING_TIME`` ago alone: a database restart rolls back a claim and ends a lead while
the send goes on, and the next leader must not send that message again meanwhile. A mark
older than that is a sender that died mid-send: the message is sent again, as after a
crash.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.conversation.messages import Form, Reply
from core.db.database_away import database_away
from core.db.outbox_repository import (
    ClaimedMessage,
    OutboundKind,
    OutboxRepository,
    PendingLock,
    Priority,
    StandIn,
    form_from_body,
    reply_from_body,
)
from core.db.reachability_repository import ReachabilityRepository
from core.db.unit_of_work import UnitOfWork, UnitOfWorkFactory
from core.ports import (
    ChannelSender,
    Clock,
    NoTally,
    OutboundOutcome,
    OutsideWindow,
    PermanentFailure,
    RetryAfter,
    SendOutcome,
    Sent,
    TransientFailure,
    WorkTally,
)
from core.services.backoff import retry_delay
from core.services.delivery import closes_window, reopen_windows
from core.services.outage import Outage, describe
from core.services.pacing import Pacer, Pacing
from core.services.polling_loop import poll_until_stopped
from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.outbox")

# A reply not sent within a day is expired, never sent. A day outlasts the platforms' own
# outages (Telegram keeps a bot's updates for 24 hours), and a WhatsApp reply could not go
# later anyway (the customer's 24-hour window has closed; the template asks them to write
# again). A late reply is still safe: its buttons carry their screen's generation.
SHELF_LIFE = timedelta(hours=24)
# A send the platform has not answered within this is cut and counts as a network error
# (it may have gone: see above). Both channels answer in well under a second normally;
# their own HTTP timeouts are longer (aiogram's 60 s), so this one bounds a stop.
SEND_TIMEOUT = 30.0
# After a send, recording it takes a few queries; this is what a stop allows for them.
RECORDING_TIME = 5.0
# How soon a bulk message that found a token looks again while a conversation reply waits
# for it (the reply takes it on its own wake-up, at once).
YIELD_TO_CONVERSATION = 0.005


@dataclass(frozen=True, slots=True)
class _Expired:
    """Not sent: the message was too late when its turn came (why)."""

    why: str


@dataclass(frozen=True, slots=True)
class _Withheld:
    """Not sent: ``may_send`` said no; the claim is let go, the message waits unchanged."""


@dataclass(slots=True)
class _Unrecorded:
    message: ClaimedMessage
    outcome: SendOutcome
    at: datetime  # when the platform answered: the record says so, however late it is
    held: bool = False  # its row was found locked by another session (told once)
    # Set when the outcome can never be recorded (not for an outage): the message is to be
    # marked failed instead, with this reason. Kept here until that is committed, so its
    # chat stays held and the message is never claimed again meanwhile.
    give_up: str | None = None
    stand_in: StandIn | None = None  # what the record queued in the message's place


# How each recorded outcome is counted (``WorkTally``).
_OUTCOMES: dict[type[SendOutcome], OutboundOutcome] = {
    Sent: "sent",
    RetryAfter: "rate_limited",
    TransientFailure: "retried",
    OutsideWindow: "outside_window",
    PermanentFailure: "refused",
}


def _bounded(outcome: SendOutcome, longest: timedelta) -> SendOutcome:
    """A platform's "retry after" within reason: a negative, absurd or infinite wait
    would overflow the retry time, and a reply waits no longer than it may live."""
    if not isinstance(outcome, RetryAfter):
        return outcome
    seconds = outcome.seconds
    if not math.isfinite(seconds) or seconds > longest.total_seconds():
        seconds = longest.total_seconds()
    return RetryAfter(max(seconds, 0.0), outcome.error)


class OutboxDispatcher:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        sender: ChannelSender,
        wakeup: Wakeup,
        *,
        pacing: Pacing | None = None,
        poll_interval: float = 1.0,
        shelf_life: timedelta = SHELF_LIFE,
        send_timeout: float = SEND_TIMEOUT,
        lanes: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
        tally: WorkTally | None = None,
        may_send: Callable[[], bool] = lambda: True,
        mark_sending: bool = False,
    ) -> None:
        self._lanes = lanes
        self._mark_sending = mark_sending
        self._tally = tally or NoTally()
        self._may_send = may_send
        self._uow = uow_factory
        self._clock = clock
        self._sender = sender
        self._wakeup = wakeup
        self._monotonic = monotonic
        self._pacer = Pacer(pacing or Pacing(), monotonic())
        self._poll_interval = poll_interval
        self._shelf_life = shelf_life
        self._send_timeout = send_timeout
        self._stopping = asyncio.Event()
        self.outage = Outage(log, f"outbox dispatcher ({sender.name})")
        # Outcomes of sends the database did not record, by message id: recorded first
        # thing on every turn, and their messages are never claimed meanwhile.
        self._unrecorded: dict[int, _Unrecorded] = {}
        self._recording = asyncio.Lock()
        # Messages a lane is sending now. Never claimed by another lane, even when the
        # database drops the sending lane's connection (and with it the row's lock).
        self._in_flight: set[int] = set()
        # Conversation replies waiting for the channel's next token (``_next_token``).
        self._conversation_waiting = 0

    def stop(self) -> None:
        """Claim nothing more; ``run`` returns once the sends in flight are recorded."""
        self._stopping.set()
        self._wakeup.notify()

    def resume(self) -> None:
        """After ``run`` has returned: the next ``run`` sends again (kept: the pacing and
        the outcomes the database has not recorded yet)."""
        self._stopping.clear()

    @property
    def sending(self) -> bool:
        """A message is being sent or its outcome recorded: stopping now may send it twice."""
        return bool(self._in_flight)

    @property
    def stop_grace(self) -> float:
        """How long ``run`` may take to return after ``stop``, in seconds: a send in flight
        finishing, then its recording. Cutting it sooner may send that message twice."""
        return self._send_timeout + RECORDING_TIME

    @property
    def unrecorded(self) -> int:
        """How many sends are done but not yet recorded (waiting for the database)."""
        return len(self._unrecorded)

    async def record_kept(self) -> None:
        """Record the outcomes the database missed (``unrecorded``), also after ``run`` has
        returned; raises while the database is away. Recorded, their messages are not sent
        again by whichever process sends for the channel next."""
        await self._record_unrecorded()

    async def run(self) -> None:
        """Send until ``stop``: several lanes, so one slow answer does not hold up other
        chats; a chat's messages still go one at a time and in order (the claim takes only
        the head of a chat's queue), and all lanes share the channel's pacing."""
        await asyncio.gather(*(self._lane() for _ in range(self._lanes)))
        error: Exception | None = None
        try:
            await self._record_unrecorded()
        except Exception as away:
            error = away
        if self._unrecorded:
            log.error(
                "outbound sends not recorded at stop: sent again after restart",
                extra={
                    "channel": self._sender.name,
                    "count": len(self._unrecorded),
                    "error": "row locked" if error is None else f"{type(error).__name__}: {error}",
                },
            )

    async def _lane(self) -> None:
        await poll_until_stopped(
            self.send_one, self._stopping, self._wakeup, self.outage, self._rest
        )

    def _rest(self) -> float:
        """How long to wait for new work: until a resting chat may go again, at most the
        polling interval."""
        now = self._monotonic()
        waits = [self._pacer.chat(c, now).wait(now) for c in self._pacer.waiting_chats(now)]
        return min([self._poll_interval, *waits]) if waits else self._poll_interval

    async def send_one(self) -> bool:
        """Send the next due message; False when none may go now.

        Raises when the database fails; an outcome it could not record is kept and
        recorded on a later call, before anything else.
        """
        await self._record_unrecorded()
        claimed: ClaimedMessage | None = None
        outcome: SendOutcome | None = None
        try:
            async with self._uow() as uow:
                repository = OutboxRepository(uow.connection)
                now_m = self._monotonic()
                held = [u.message.chat_id for u in self._unrecorded.values()]
                claimed = await repository.claim_next(
                    self._sender.name,
                    self._clock.now(),
                    [*self._pacer.waiting_chats(now_m), *held],
                    [*self._unrecorded, *self._in_flight],
                    self._sending_for if self._mark_sending else None,
                )
                if claimed is None:
                    return False
                if claimed.id in self._in_flight:  # taken by another lane while we claimed
                    claimed = None
                    return False
                self._in_flight.add(claimed.id)
                if (stale := self._stale(claimed)) is not None:
                    await self._expire(uow, claimed, stale)
                    return True
                chat = self._pacer.chat(claimed.chat_id, now_m)
                if chat.wait(self._monotonic()) > 0:
                    return False  # the chat rests (another lane just sent to it): let it go
                if self._stopping.is_set():
                    return False  # stopping: the claim rolls back, the message waits
                sent, latency = await self._send(claimed, self._marker(uow, claimed))
                if isinstance(sent, _Withheld):
                    return False  # the claim rolls back: the message waits, as it was
                if isinstance(sent, _Expired):
                    await self._expire(uow, claimed, sent.why)
                    return True
                outcome = sent
                answered = self._clock.now()
                self._pace(claimed, outcome)
                stand_in = await self._record(uow, claimed, outcome, answered)
                await uow.commit()
        except Exception:
            if claimed is not None and outcome is not None:
                self._unrecorded[claimed.id] = _Unrecorded(claimed, outcome, answered)
                log.warning(
                    "outbound outcome not recorded: kept until the database answers",
                    extra=self._fields(claimed),
                )
            raise
        finally:
            if claimed is not None:
                self._in_flight.discard(claimed.id)
        self._log(claimed, outcome, latency, stand_in)
        return True

    @property
    def _sending_for(self) -> timedelta:
        """How long a send marked as under way (``mark_sending``) may still end in an
        outcome its sender records: its timeout, then the recording."""
        return timedelta(seconds=self._send_timeout + RECORDING_TIME)

    def _marker(self, uow: UnitOfWork, claimed: ClaimedMessage) -> Callable[[], Awaitable[bool]]:
        """Right before the send (``mark_sending``): commit that the message is being sent,
        so a process that comes to lead the channel while this send is under way (the
        database restarted, rolling back the claim and ending the lead) leaves the message
        to this one's outcome rather than sending it again; then lock the row again for
        the record. False: the message is no longer this lane's to send."""

        async def mark() -> bool:
            if not self._mark_sending:
                return True
            repository = OutboxRepository(uow.connection)
            await repository.mark_sending(claimed.id, self._clock.now())
            await uow.commit()
            # Rarely, another session took the row in between (a withdrawal): not sent;
            # the mark makes the message wait ``_sending_for`` if it is still pending.
            return await repository.lock_pending(claimed.id) is PendingLock.LOCKED

        return mark

    async def _expire(self, uow: UnitOfWork, claimed: ClaimedMessage, why: str) -> None:
        await OutboxRepository(uow.connection).mark_expired(claimed.id, why)
        await uow.commit()
        self._tally.outbound(self._sender.name, "expired")
        log.warning("outbound expired", extra={**self._fields(claimed), "why": why})

    def _stale(self, claimed: ClaimedMessage) -> str | None:
        """Why the message is too late to send now, or None."""
        now = self._clock.now()
        if claimed.expires_at is not None:
            if now >= claimed.expires_at:
                return f"not sent: expired at {claimed.expires_at.isoformat()}"
            return None
        age = now - claimed.created_at
        return f"not sent: {age} old" if age > self._shelf_life else None

    async def _send(
        self, claimed: ClaimedMessage, mark: Callable[[], Awaitable[bool]]
    ) -> tuple[SendOutcome | _Expired | _Withheld, float]:
        """The platform's answer and its latency in ms, or why it was not sent after all;
        ``mark`` is awaited right before the platform is asked (False: not sent). Raises
        only for what ``mark`` raises (the database's errors)."""
        message: Reply | Form | None = None
        try:
            if claimed.kind is OutboundKind.TEMPLATE:
                message = form_from_body(claimed.body["form"])
            elif claimed.kind is OutboundKind.REPLY:
                message = reply_from_body(claimed.body)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            return PermanentFailure(
                f"unreadable {claimed.kind}: {type(error).__name__}: {error}"
            ), 0
        try:
            # The tokens are taken right before the send, not before the claim: a slow
            # claim must not bunch sends up beyond the limit.
            await self._next_token(claimed.priority)
            # The wait may have outlasted the message (a platform's "retry after", bulk
            # yielding to conversation replies): too late now, it is not sent, and the
            # token is left for the next message.
            if (stale := self._stale(claimed)) is not None:
                return _Expired(stale), 0.0
            if not self._may_send():
                return _Withheld(), 0.0
            now = self._monotonic()
            self._pacer.overall.take(now)
            self._pacer.chat(claimed.chat_id, now).take(now)
        except Exception as error:
            return TransientFailure(f"{type(error).__name__}: {error}"), 0.0
        if not await mark():
            return _Withheld(), 0.0
        try:
            started = time.perf_counter()
            async with asyncio.timeout(self._send_timeout):
                if message is None:
                    outcome = await self._sender.reopen_window(claimed.chat_id)
                elif isinstance(message, Form):
                    outcome = await self._sender.send_form(claimed.chat_id, message)
                else:
                    outcome = await self._sender.send(claimed.chat_id, message)
            return _bounded(outcome, self._shelf_life), round(
                (time.perf_counter() - started) * 1000, 1
            )
        except Exception as error:
            return TransientFailure(f"{type(error).__name__}: {error}"), 0.0

    async def _next_token(self, priority: Priority) -> None:
        """Wait until the channel's pacing lets a message go; the caller takes the token
        at once. A conversation reply waiting for a token gets it before any bulk message
        another lane holds: a burst of reminders delays a chatting customer by a token or
        two, not by every lane's turn."""
        overall = self._pacer.overall
        urgent = priority is Priority.CONVERSATION
        self._conversation_waiting += urgent
        try:
            while True:
                pause = overall.wait(self._monotonic())
                if pause <= 0 and (urgent or not self._conversation_waiting):
                    return
                await asyncio.sleep(pause if pause > 0 else YIELD_TO_CONVERSATION)
        finally:
            self._conversation_waiting -= urgent

    def _pace(self, message: ClaimedMessage, outcome: SendOutcome) -> None:
        if isinstance(outcome, RetryAfter):
            now_m = self._monotonic()
            self._pacer.chat(message.chat_id, now_m).hold_off(outcome.seconds, now_m)
            # It may be flood control for the whole bot: everyone pauses a moment.
            self._pacer.overall.hold_off(min(outcome.seconds, 1.0), now_m)

    async def _record_unrecorded(self) -> None:
        """Record the outcomes the database missed, oldest first; raises while it is away.

        Never waits for a row's lock: a row another session still holds (the session of
        the failed record, which the server has not ended yet) is left for a later turn.
        """
        if not self._unrecorded:
            return
        async with self._recording:
            for message_id, unrecorded in sorted(self._unrecorded.items()):
                try:
                    if unrecorded.give_up is None:
                        found = await self._record_late(unrecorded)
                    else:
                        found = await self._mark_given_up(unrecorded.message, unrecorded.give_up)
                except Exception as error:
                    # Marking a message failed with a plain reason cannot fail for its own
                    # sake: any error doing that is the database's.
                    if database_away(error) or unrecorded.give_up is not None:
                        raise
                    # It would fail the same way forever: mark the message failed instead.
                    reason = f"outcome not recorded: {describe(error)}".replace("\x00", "")
                    unrecorded.give_up = reason[:2000]
                    found = await self._mark_given_up(unrecorded.message, unrecorded.give_up)
                if found is PendingLock.HELD:
                    if not unrecorded.held:
                        log.warning(
                            "outbound outcome not recorded: its row is still locked by the"
                            " lost session, recorded once the database ends it",
                            extra=self._fields(unrecorded.message),
                        )
                        unrecorded.held = True
                    continue
                del self._unrecorded[message_id]
                if found is not PendingLock.LOCKED:
                    continue  # recorded already: the lost commit had gone through
                if unrecorded.give_up is not None:
                    log.error(
                        "outbound outcome cannot be recorded: marked failed",
                        extra={**self._fields(unrecorded.message), "error": unrecorded.give_up},
                    )
                else:
                    log.info("outbound recorded late", extra=self._fields(unrecorded.message))
                    self._log(unrecorded.message, unrecorded.outcome, 0.0, unrecorded.stand_in)

    async def _record_late(self, unrecorded: _Unrecorded) -> PendingLock:
        async with self._uow() as uow:
            # Still pending unless the commit went through and only its answer was lost:
            # then it is recorded already.
            found = await OutboxRepository(uow.connection).lock_pending(unrecorded.message.id)
            if found is PendingLock.LOCKED:
                unrecorded.stand_in = await self._record(
                    uow, unrecorded.message, unrecorded.outcome, unrecorded.at
                )
            await uow.commit()
        return found

    async def _mark_given_up(self, message: ClaimedMessage, reason: str) -> PendingLock:
        """Mark the message failed (never sent again, its chat goes on), unless its row is
        still held by another session or was recorded after all."""
        async with self._uow() as uow:
            repository = OutboxRepository(uow.connection)
            found = await repository.lock_pending(message.id)
            if found is PendingLock.LOCKED:
                await repository.mark_failed(message.id, reason)
            await uow.commit()
        return found

    async def _record(
        self, uow: UnitOfWork, message: ClaimedMessage, outcome: SendOutcome, now: datetime
    ) -> StandIn | None:
        """Record the outcome; for a message refused outside the window, what was queued in
        its place."""
        repository = OutboxRepository(uow.connection)
        match outcome:
            case Sent(platform_message_id=platform_id):
                reports = await repository.mark_sent(
                    message.id, self._sender.name, platform_id, now
                )
                # A report that beat this record may say the window had closed.
                if any(closes_window(report) for report in reports):
                    await reopen_windows(repository, [message.id])
            case RetryAfter(seconds=seconds, error=error):
                await repository.retry_at(
                    message.id, now + timedelta(seconds=seconds), error, count_attempt=False
                )
            case TransientFailure(error=error):
                delay = retry_delay(message.attempts + 1)
                await repository.retry_at(message.id, now + delay, error)
            case OutsideWindow(error=error):
                await repository.mark_failed(message.id, error)
                return await repository.stand_in_for_refused(message.id)
            case PermanentFailure(error=error, unreachable=unreachable):
                await repository.mark_failed(message.id, error)
                if unreachable:
                    await ReachabilityRepository(uow.connection).mark_unreachable(
                        self._sender.name, message.chat_id, now
                    )
        return None

    def _fields(self, message: ClaimedMessage) -> dict[str, object]:
        return {"channel": self._sender.name, "chat": message.chat_id, "outbox_id": message.id}

    def _log(
        self,
        message: ClaimedMessage,
        outcome: SendOutcome,
        latency_ms: float,
        stand_in: StandIn | None = None,
    ) -> None:
        """Log a recorded outcome, and count it."""
        self._tally.outbound(self._sender.name, _OUTCOMES[type(outcome)])
        fields = self._fields(message)
        match outcome:
            case Sent():
                log.info("outbound sent", extra={**fields, "latency_ms": latency_ms})
            case RetryAfter(seconds=seconds):
                log.warning("outbound rate-limited", extra={**fields, "retry_after": seconds})
            case TransientFailure(error=error):
                log.warning("outbound failed, will retry", extra={**fields, "error": error})
            case OutsideWindow(error=error) if stand_in is StandIn.NOTHING:
                # A bulk message without a form (a follow-up, a staff notice): dropped.
                log.warning(
                    "outbound outside the window, nothing sent in its place",
                    extra={**fields, "error": error},
                )
            case OutsideWindow(error=error):
                what = "template" if stand_in is StandIn.TEMPLATE else "reopener"
                log.warning(
                    f"outbound outside the window, {what} queued", extra={**fields, "error": error}
                )
            case PermanentFailure(error=error, unreachable=False):
                log.error("outbound refused", extra={**fields, "error": error})
            case PermanentFailure(error=error):
                log.error(
                    "outbound refused, customer unreachable", extra={**fields, "error": error}
                )
