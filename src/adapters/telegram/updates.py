"""Telegram updates in: a raw update (as stored in the inbox) becomes an ``Inbound``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message, Update, User

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import (
    ChatContact,
    Chosen,
    Command,
    Inbound,
    SharedContact,
    Text,
)
from core.ports import Translated
from core.untrusted_input import part

CHANNEL = "telegram"
# One button per row reads best on a phone; ten rows keep a message on one screen.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=40)
ACKNOWLEDGE_TIMEOUT = 3.0

log = logging.getLogger("salonbot.telegram")


def parse_update(payload: Mapping[str, Any]) -> Update | None:
    """The update aiogram reads from ``payload``, or None if it is not one."""
    try:
        return Update.model_validate(dict(payload))
    except ValueError:
        return None


def _id(value: Mapping[str, Any]) -> str | None:
    found = value.get("id")
    return str(found) if isinstance(found, int) and not isinstance(found, bool) else None


def chat_key(payload: Mapping[str, Any]) -> str:
    """Whose queue the update joins: its chat (a button tap: the chat of its message)."""
    callback = part(payload, "callback_query")
    for chat in (
        part(part(payload, "message"), "chat"),
        part(part(payload, "edited_message"), "chat"),
        part(part(callback, "message"), "chat"),
        part(callback, "from"),
    ):
        if (key := _id(chat)) is not None:
            return key
    return f"update:{payload.get('update_id')}"


def _contact(chat_id: int, user: User) -> ChatContact:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return ChatContact(CHANNEL, str(chat_id), str(user.id), name, user.language_code)


def _from_message(message: Message) -> Translated | None:
    user = message.from_user
    if user is None or message.chat.type != "private":
        return None  # salonbot talks to customers one to one, not in groups
    inbound: Inbound
    if message.contact is not None:
        if message.contact.user_id not in (None, user.id):
            return None  # someone else's card: not a phone number the customer shared
        inbound = SharedContact(message.contact.phone_number)
    elif message.text is not None:
        text = message.text.strip()
        if text.startswith("/") and len(text) > 1:
            head, _, payload = text[1:].partition(" ")
            inbound = Command(head.split("@", 1)[0].lower(), payload.strip())
        else:
            inbound = Text(message.text)
    else:
        return None
    return Translated(_contact(message.chat.id, user), inbound)


def _from_callback(callback: CallbackQuery) -> Translated | None:
    if not callback.data:
        return None
    message = callback.message
    chat_id = message.chat.id if message is not None else callback.from_user.id
    return Translated(_contact(chat_id, callback.from_user), Chosen(callback.data))


class TelegramInbound:
    """The inbound side of the channel, for the inbox worker."""

    name = CHANNEL
    capacity = CAPACITY

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def translate(self, payload: Mapping[str, Any]) -> Translated | None:
        update = parse_update(payload)
        if update is None:
            return None
        if update.message is not None:
            return _from_message(update.message)
        if update.callback_query is not None:
            return _from_callback(update.callback_query)
        return None  # edits, channel posts, reactions...: nothing to answer

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Answer a button tap at once, so the customer's spinner stops."""
        callback = part(payload, "callback_query")
        if not isinstance(callback.get("id"), str) or not callback["id"]:
            return
        try:
            async with asyncio.timeout(ACKNOWLEDGE_TIMEOUT):
                await self._bot.answer_callback_query(str(callback["id"]))
        except Exception as error:
            log.warning(
                "could not answer a callback query",
                extra={"channel": CHANNEL, "error": type(error).__name__},
            )
