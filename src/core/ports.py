"""Protocols the outside world implements for the core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Inbound, Reply
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


class InboundChannel(Protocol):
    """A channel's inbound side: platform events in, ``Inbound`` out."""

    name: str
    capacity: ChannelCapacity

    def translate(self, payload: Mapping[str, Any]) -> Translated | None:
        """The event as an ``Inbound``; None for a kind of event salonbot does not handle."""
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
