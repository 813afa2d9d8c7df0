"""In-process delivery: a channel that shows replies in this process (the terminal) reads
them straight from the outbox instead of through a sender and its dispatcher."""

from __future__ import annotations

from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock


class DeliverInProcess:
    """Take a chat's pending replies for a channel that shows them in this process.

    Taking marks them sent, in the same transaction, so each reply is shown once.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def __call__(self, channel: str, chat_id: str) -> list[Reply]:
        async with self._uow() as uow:
            taken = await OutboxRepository(uow.connection).take_pending(
                channel, chat_id, self._clock.now()
            )
            await uow.commit()
        return [message.reply for message in taken]
