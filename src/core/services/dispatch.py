"""The outbox dispatcher: sends each channel's queued replies, in order per chat, paced.

One dispatcher per channel. It claims the oldest due message heading its chat's queue,
waits for the channel's pacing, sends it through the channel's ``ChannelSender`` and
records the outcome in the same transaction:

* sent: marked sent with the platform's message id;
* the platform asked to slow down (Telegram's 429 ``retry_after``): the chat rests that
  long and the message is tried again, without counting an attempt;
* a network error or 5xx: tried again with exponential backoff and jitter, then failed;
* refused for good (the bot was blocked, the chat does not exist): failed, and the
  customer is marked unreachable. No retry loop.

A message is never sent twice on purpose. One case remains: a crash after the platform
took the message and before the commit leaves it pending, and it is sent once more after
restart. Telegram offers no idempotency key to prevent that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from core.db.outbox_repository import ClaimedMessage, OutboxRepository, reply_from_body
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import ChannelSender, Clock, PermanentFailure, RetryAfter, Sent, TransientFailure
from core.services.backoff import retry_delay
from core.services.outage import Outage
from core.services.pacing import Pacer, Pacing
from core.services.wakeup import Wakeup

log = logging.getLogger("salonbot.outbox")

MAX_SEND_ATTEMPTS = 8


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
        max_attempts: int = MAX_SEND_ATTEMPTS,
        lanes: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lanes = lanes
        self._uow = uow_factory
        self._clock = clock
        self._sender = sender
        self._wakeup = wakeup
        self._monotonic = monotonic
        self._pacer = Pacer(pacing or Pacing(), monotonic())
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._stopping = asyncio.Event()
        self.outage = Outage(log, f"outbox dispatcher ({sender.name})")

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.notify()

    async def run(self) -> None:
        """Send until ``stop``: several lanes, so one slow answer does not hold up other
        chats; a chat's messages still go one at a time and in order (the claim takes only
        the head of a chat's queue), and all lanes share the channel's pacing."""
        await asyncio.gather(*(self._lane() for _ in range(self._lanes)))

    async def _lane(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.send_one()
            except Exception as error:  # the database went away, say: wait, go on
                self.outage.failed(error)
                sent = False
            else:
                self.outage.succeeded()
            if not sent and not self._stopping.is_set():
                await self._wakeup.wait(self._rest())

    def _rest(self) -> float:
        """How long to wait for new work: until a resting chat may go again, at most the
        polling interval."""
        now = self._monotonic()
        waits = [self._pacer.chat(c, now).wait(now) for c in self._pacer.waiting_chats(now)]
        return min([self._poll_interval, *waits]) if waits else self._poll_interval

    async def send_one(self) -> bool:
        """Send the next due message; False when none may go now."""
        async with self._uow() as uow:
            repository = OutboxRepository(uow.connection)
            resting = self._pacer.waiting_chats(self._monotonic())
            claimed = await repository.claim_next(self._sender.name, self._clock.now(), resting)
            if claimed is None:
                return False
            chat = self._pacer.chat(claimed.chat_id, self._monotonic())
            if chat.wait(self._monotonic()) > 0:
                return False  # the chat rests (another lane just sent to it): let the row go
            try:
                reply = reply_from_body(claimed.body)
                # The tokens are taken right before the send, not before the claim: a slow
                # claim must not bunch sends up beyond the limit.
                overall = self._pacer.overall
                while (pause := overall.wait(self._monotonic())) > 0:  # noqa: ASYNC110 - time
                    await asyncio.sleep(pause)
                now = self._monotonic()
                overall.take(now)
                chat.take(now)
                started = time.perf_counter()
                outcome = await self._sender.send(claimed.chat_id, reply)
                latency = round((time.perf_counter() - started) * 1000, 1)
            except Exception as error:
                outcome = TransientFailure(f"{type(error).__name__}: {error}")
                latency = 0.0
            await self._record(repository, claimed, outcome, latency)
            await uow.commit()
        return True

    async def _record(
        self,
        repository: OutboxRepository,
        message: ClaimedMessage,
        outcome: Sent | RetryAfter | TransientFailure | PermanentFailure,
        latency_ms: float,
    ) -> None:
        now = self._clock.now()
        fields = {"channel": self._sender.name, "chat": message.chat_id, "outbox_id": message.id}
        match outcome:
            case Sent(platform_message_id=platform_id):
                await repository.mark_sent(message.id, self._sender.name, platform_id, now)
                log.info("outbound sent", extra={**fields, "latency_ms": latency_ms})
            case RetryAfter(seconds=seconds, error=error):
                now_m = self._monotonic()
                self._pacer.chat(message.chat_id, now_m).hold_off(seconds, now_m)
                # It may be flood control for the whole bot: everyone pauses a moment.
                self._pacer.overall.hold_off(min(seconds, 1.0), now_m)
                await repository.retry_at(
                    message.id, now + timedelta(seconds=seconds), error, count_attempt=False
                )
                log.warning("outbound rate-limited", extra={**fields, "retry_after": seconds})
            case TransientFailure(error=error):
                attempt = message.attempts + 1
                if attempt >= self._max_attempts:
                    await repository.mark_failed(message.id, error)
                    log.error("outbound failed for good", extra={**fields, "error": error})
                else:
                    await repository.retry_at(message.id, now + retry_delay(attempt), error)
                    log.warning("outbound failed, will retry", extra={**fields, "error": error})
            case PermanentFailure(error=error, unreachable=False):
                await repository.mark_failed(message.id, error)
                log.error("outbound refused", extra={**fields, "error": error})
            case PermanentFailure(error=error):
                await repository.mark_failed(message.id, error)
                await repository.mark_unreachable(self._sender.name, message.chat_id, now)
                log.error(
                    "outbound refused, customer unreachable", extra={**fields, "error": error}
                )
