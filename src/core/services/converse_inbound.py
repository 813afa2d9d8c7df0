"""The inbox's handler for chat events: the channel reads the event, ``converse`` answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.db.inbox_repository import InboundEvent
from core.db.unit_of_work import NestedUnitOfWorkFactory, UnitOfWork, UnitOfWorkFactory
from core.ports import Ignored, InboundChannel
from core.services.converse import Converse


class ConverseInbound:
    """An ``EventHandler``: one chat event, one ``converse`` step in the claim's transaction.

    ``converse_in`` builds ``Converse`` over a unit-of-work factory; the composition root
    supplies it with every port (``ExternalBusy`` included), so the inbox books exactly as
    every other entry does.
    """

    def __init__(
        self,
        channels: Mapping[str, InboundChannel],
        converse_in: Callable[[UnitOfWorkFactory], Converse],
    ) -> None:
        self._channels = channels
        self._converse_in = converse_in

    async def __call__(self, uow: UnitOfWork, event: InboundEvent) -> Ignored | None:
        channel = self._channels.get(event.channel)
        if channel is None:
            return Ignored(f"no channel {event.channel!r} in this process")
        await channel.acknowledge(event.payload)  # even a tap we ignore stops spinning
        translated = channel.translate(event.payload)
        if isinstance(translated, Ignored):
            return translated
        # converse's writes sit in a savepoint of the claim's transaction.
        converse = self._converse_in(NestedUnitOfWorkFactory(uow.connection))
        await converse(translated.contact, translated.inbound, channel.capacity)
        return None
