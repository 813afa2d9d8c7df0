"""Wiring the terminal channel: each line goes through ``converse`` and the outbox."""

from __future__ import annotations

from adapters.terminal import chat as terminal
from core.conversation.messages import ChatContact, Inbound, Reply
from salonbot.bootstrap import Salonbot


def terminal_contact(chat_id: str, name: str, language_code: str | None) -> ChatContact:
    return ChatContact(terminal.CHANNEL, chat_id, chat_id, name=name, language_code=language_code)


def terminal_exchange(app: Salonbot, contact: ChatContact) -> terminal.Exchange:
    """One step of the chat, the replies read back from the outbox as a sender would."""

    async def exchange(inbound: Inbound) -> list[Reply]:
        await app.converse(contact, inbound, terminal.CAPACITY)
        return await app.deliver_in_process(contact.channel, contact.chat_id)

    return exchange
