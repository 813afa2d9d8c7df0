"""Staff commands in a chat: ``/link CODE``, ``/unlink``, ``/today`` and ``/tomorrow``.

``converse`` routes them here before the conversation, in its transaction, and queues the
answer like any reply. ``/today`` and ``/tomorrow`` are answered only in a linked chat;
anywhere else they are refused and the customer's conversation is left as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.desk_port import pick_language
from core.conversation.messages import ChatContact, Command, Inbound, Reply
from core.conversation.staff_texts import StaffTexts, named_in
from core.conversation.words import offered_languages
from core.db.staff_chat_repository import StaffChatRepository
from core.db.staff_day_repository import StaffDayRepository
from core.domain.availability import local_day
from core.domain.catalog import Catalog
from core.services.busy_time import local_day_span
from core.services.staff_link import DEEP_LINK_PREFIX, code_digest, normalize_code

LINK, UNLINK, TODAY, TOMORROW = "link", "unlink", "today", "tomorrow"
STAFF_COMMANDS = frozenset({LINK, UNLINK, TODAY, TOMORROW})


def staff_command(inbound: Inbound) -> Command | None:
    """The staff command ``inbound`` is (a Telegram deep link ``/start link-CODE`` reads as
    ``/link CODE``), or None when it is the conversation's."""
    if not isinstance(inbound, Command):
        return None
    if inbound.name in STAFF_COMMANDS:
        return inbound
    if inbound.name == "start" and inbound.payload.startswith(DEEP_LINK_PREFIX):
        return Command(LINK, inbound.payload.removeprefix(DEEP_LINK_PREFIX))
    return None


class StaffDesk:
    """Answers one staff command in one chat, over the caller's open transaction."""

    def __init__(self, connection: AsyncConnection, catalog: Catalog, now: datetime) -> None:
        self._db = connection
        self._chats = StaffChatRepository(connection)
        self._catalog = catalog
        self._now = now

    async def answer(self, contact: ChatContact, command: Command) -> tuple[Reply, list[int]]:
        """The answer, and the customers it names (a day's visits): the outbox keeps them
        with it, for ``customer forget``."""
        linked = await self._chats.chat(contact.channel, contact.chat_id)
        language = linked.language if linked else await self._language(contact)
        texts = StaffTexts(self._catalog, language)
        if command.name == LINK:
            return await self._link(contact, command.payload, language, texts), []
        if linked is None:
            return texts.staff_only(), []
        if command.name == UNLINK:
            await self._chats.unlink_chat(contact.channel, contact.chat_id)
            return texts.unlinked(), []
        day = local_day(self._now, self._catalog)
        if command.name == TOMORROW:
            day += timedelta(days=1)
        visits = await StaffDayRepository(self._db).visits(
            linked.staff_id, local_day_span(self._catalog, day)
        )
        return Reply(texts.agenda(day, visits)), named_in(visits)

    async def _link(
        self, contact: ChatContact, typed: str, language: str, texts: StaffTexts
    ) -> Reply:
        if not typed.strip():
            return texts.code_missing()
        code = normalize_code(typed)
        staff_id = (
            None if code is None else await self._chats.spend_code(code_digest(code), self._now)
        )
        if staff_id is None:
            return texts.bad_code()
        await self._chats.link(contact.channel, contact.chat_id, staff_id, language, self._now)
        member = await self._chats.member(staff_id=staff_id)
        return texts.linked(member.name if member is not None else "")

    async def _language(self, contact: ChatContact) -> str:
        """The chat's customer's language, else the platform's, else the salon default."""
        offered = offered_languages(self._catalog)
        chosen = await self._chats.customer_language(contact.channel, contact.chat_id)
        if chosen is not None and chosen in offered:
            return chosen
        return pick_language(contact.language_code, offered)
