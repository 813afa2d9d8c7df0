"""Protocols the outside world implements for the core."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Form, Inbound, Reply
from core.domain.timeline import Interval


class Clock(Protocol):
    """Time is a dependency: every rule asks the clock, never ``datetime.now`` directly."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ExternalBusy(Protocol):
    """Busy time from outside salonbot (a staff member's own calendar, say)."""

    async def busy(self, staff_key: str, window: Interval) -> Sequence[Interval]:
        """Busy intervals of the staff member that overlap ``window``."""
        ...


class NoExternalBusy:
    async def busy(self, staff_key: str, window: Interval) -> Sequence[Interval]:
        return ()


@dataclass(frozen=True, slots=True)
class Translated:
    """An inbound platform event as the core understands it."""

    contact: ChatContact
    inbound: Inbound


class StoreEvent(Protocol):
    """The inbox's door for a channel's inbound side (a webhook route, a poller)."""

    def __call__(
        self, channel: str, platform_id: str, chat_key: str, payload: Mapping[str, Any]
    ) -> Awaitable[bool]:
        """Store the event durably before it is acknowledged; False for a redelivery (the
        same ``platform_id`` was stored before). Raises ``StoreUnavailable``."""
        ...


class StoreUnavailable(Exception):
    """The event could not be stored in time (the database is down, hangs or is overloaded).

    Answer so that the platform delivers it again (a 5xx). It may still be stored a moment
    later; the redelivery is then dropped by its platform id, so it is handled once either
    way. The inbox logs the outage itself: the caller need not.
    """


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A platform's word on a message it took: sent, delivered, read or failed.

    ``window_closed``: failed because the customer's window had closed (WhatsApp's 131047);
    the channel's window reopener is queued then, as when the send itself is refused so.
    """

    channel: str
    platform_message_id: str
    status: str
    at: datetime
    error: str = ""
    window_closed: bool = False


class KeepDeliveryReports(Protocol):
    """Where a channel's webhook leaves the delivery reports it reads."""

    def __call__(self, reports: Sequence[DeliveryReport]) -> Awaitable[int]:
        """Keep them durably; how many changed a message. Raises ``StoreUnavailable``."""
        ...


@dataclass(frozen=True, slots=True)
class Ignored:
    """An inbound platform event salonbot stores but does not answer, and why (kept on the
    event's row, so nothing a customer sent vanishes without a trace)."""

    reason: str


class InboundChannel(Protocol):
    """A channel's inbound side: platform events in, ``Inbound`` out."""

    name: str
    capacity: ChannelCapacity

    def translate(self, payload: Mapping[str, Any]) -> Translated | Ignored:
        """The event as an ``Inbound``, or why salonbot does not answer it."""
        ...

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Tell the platform the event is being handled (stop a button's spinner).

        Best effort and quick: the event is handled whether or not this succeeds.
        """
        ...


@dataclass(frozen=True, slots=True)
class Sent:
    platform_message_id: str


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """The platform asked us to slow down: try again after ``seconds``."""

    seconds: float
    error: str


@dataclass(frozen=True, slots=True)
class TransientFailure:
    """A network error or a 5xx: try again later."""

    error: str


@dataclass(frozen=True, slots=True)
class PermanentFailure:
    """The platform will never take this message.

    ``unreachable``: because of the customer (they blocked the bot, the chat is gone), so
    nothing can reach them on this channel until they write again.
    """

    error: str
    unreachable: bool = False


@dataclass(frozen=True, slots=True)
class OutsideWindow:
    """The platform takes only a window reopener now: the customer has not written for too
    long (WhatsApp's 24-hour window). The outbox queues ``reopen_window`` instead."""

    error: str


SendOutcome = Sent | RetryAfter | TransientFailure | PermanentFailure | OutsideWindow


class ChannelSender(Protocol):
    """A channel's outbound side; it never raises for a platform's answer."""

    name: str

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome: ...

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        """Ask the customer to write again (WhatsApp: the approved template), for a channel
        whose ``send`` can answer ``OutsideWindow``."""
        ...

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        """Send the message as its pre-approved form (WhatsApp: the template configured for
        ``form.name``), for a channel whose ``send`` can answer ``OutsideWindow``; a channel
        with no such form configured answers ``PermanentFailure`` saying so."""
        ...


# ---- work tallies (observability) --------------------------------------------------------

# What became of one inbound event's attempt: answered, stored but not answered, failed
# and to be retried, failed for the last time (parked).
InboundOutcome = Literal["handled", "ignored", "retried", "parked"]
# What became of one outbound message's turn: sent; the platform asked to slow down
# (Telegram's 429, WhatsApp's throughput and pair limits); a network error or 5xx (tried
# again); refused for good; refused outside the customer's window (a stand-in is queued);
# too late to send.
OutboundOutcome = Literal["sent", "rate_limited", "retried", "refused", "outside_window", "expired"]


class WorkTally(Protocol):
    """Counts what the inbox workers and outbox dispatchers did, for monitoring.

    Told once per outcome, after it is committed; never raises, never blocks."""

    def inbound(self, channel: str, outcome: InboundOutcome) -> None: ...

    def outbound(self, channel: str, outcome: OutboundOutcome) -> None: ...


class NoTally:
    """Counts nothing (monitoring is off, or a test does not look)."""

    def inbound(self, channel: str, outcome: InboundOutcome) -> None:
        return None

    def outbound(self, channel: str, outcome: OutboundOutcome) -> None:
        return None
