"""``converse``: one step of a chat, in one transaction.

Load (and lock) the chat's state, step the conversation, let it hold, confirm, move or
cancel through the booking use cases, save the state and queue the reply in the outbox;
commit. If anything fails, nothing of the step is kept, so the caller may simply retry it.
A staff command (``/today``, ``/link CODE``, ...) is answered by ``StaffDesk`` instead, in
the same way, and leaves the chat's conversation as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.conversation.capacity import ChannelCapacity
from core.conversation.desk_port import pick_language
from core.conversation.dialogue import Conversation
from core.conversation.messages import ChatContact, Command, Inbound, Reply
from core.conversation.state import State
from core.conversation.words import offered_languages
from core.db.conversation_repository import ConversationRepository, StaleConversation
from core.db.customer_repository import CustomerRepository
from core.db.outbox_repository import OutboxRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock, ExternalBusy
from core.services.availability import FindSlots
from core.services.booking_changes import BookingFollower
from core.services.catalog import CatalogReader
from core.services.staff_desk import StaffDesk, staff_command
from core.services.stored_desk import StoredDesk

ATTEMPTS = 3


class Converse:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        find_slots: FindSlots,
        external: ExternalBusy | None = None,
        followers: Sequence[BookingFollower] = (),
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._find_slots = find_slots
        self._external = external
        self._followers = tuple(followers)

    async def __call__(
        self, contact: ChatContact, inbound: Inbound, capacity: ChannelCapacity
    ) -> list[Reply]:
        """Handle one inbound event; the replies, also queued in the outbox."""
        for attempt in range(ATTEMPTS):
            try:
                return await self._step(contact, inbound, capacity)
            except StaleConversation:
                # Only a chat's very first two messages can race this way (there was no
                # row to lock yet); the loser runs again on the winner's state.
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _step(
        self, contact: ChatContact, inbound: Inbound, capacity: ChannelCapacity
    ) -> list[Reply]:
        async with self._uow() as uow:
            connection = uow.connection
            now = self._clock.now()
            command = staff_command(inbound)
            if command is not None:
                # Staff commands never touch the chat's conversation (nor make a customer).
                catalog = await self._catalogs.current(connection)
                reply, named = await StaffDesk(connection, catalog, now).answer(contact, command)
                await OutboxRepository(connection).add(
                    contact.channel, contact.chat_id, [reply], now, customer_ids=named
                )
                await uow.commit()
                return [reply]
            conversations = ConversationRepository(connection)
            stored = await conversations.load(contact.channel, contact.chat_id)
            catalog = await self._catalogs.current(connection)
            offered = offered_languages(catalog)
            customers = CustomerRepository(connection)
            if stored is None:
                customer_id, _ = await customers.for_identity(
                    contact.channel,
                    contact.external_id,
                    now,
                    name=contact.name,
                    phone=contact.phone,
                    former_external_id=contact.former_external_id,
                    language=pick_language(contact.language_code, offered),
                    start_payload=_start_payload(inbound),
                )
                state, version = State(), None
            else:
                customer_id, version = stored.customer_id, stored.version
                state = State.from_json(dict(stored.state))
            await customers.reachable_again(customer_id)
            profile = await customers.get(customer_id)
            language = profile.language if profile.language in offered else None
            desk = StoredDesk(
                connection,
                customer_id,
                self._clock,
                self._catalogs,
                self._find_slots,
                self._external,
                self._followers,
            )
            conversation = Conversation(
                desk,
                catalog,
                capacity,
                state,
                language or pick_language(contact.language_code, offered),
                name=profile.name,
                first_contact=stored is None,
            )
            replies = await conversation.handle(inbound)
            await conversations.save(
                contact.channel,
                contact.chat_id,
                customer_id,
                conversation.state.to_json(),
                version,
                now,
            )
            await OutboxRepository(connection).add(contact.channel, contact.chat_id, replies, now)
            await uow.commit()
        return replies


def _start_payload(inbound: Inbound) -> str | None:
    """What a ``/start`` carried (a deep link's parameter), kept from the first contact."""
    if isinstance(inbound, Command) and inbound.name == "start" and inbound.payload:
        return inbound.payload[:256]
    return None
