"""Telegram updates in: a raw update (as stored in the inbox) becomes an ``Inbound``.

salonbot talks to customers one to one: a message or a button tap in a group, supergroup
or channel is kept and not answered (a tap's spinner is still stopped). An update aiogram
cannot read (a field it does not know yet, a malformed nested message) is logged as a
warning with where it fails; a message someone wrote in a private chat is then still
answered from the few fields salonbot needs, read defensively, so one odd field never
silences a customer (a service message stays unanswered, as when it is read).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message, Update, User
from pydantic import ValidationError

from adapters.common.commands import parse_command
from adapters.common.platform_input import part, text
from core.conversation.capacity import ChannelCapacity, shorten
from core.conversation.messages import (
    ChatContact,
    Chosen,
    Inbound,
    SharedContact,
    Text,
    Unsupported,
)
from core.ports import Ignored, Translated

CHANNEL = "telegram"
# One button per row reads best on a phone; ten rows keep a message on one screen.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=40)
ACKNOWLEDGE_TIMEOUT = 3.0

log = logging.getLogger("salonbot.telegram")


# What a person can send in a chat that salonbot cannot read (aiogram's content types): each
# gets the conversation's polite "I can only read text and the buttons" answer. A contact
# card is read when it is the sender's own number. Service messages (a pinned message, a
# changed auto-delete timer, ...) are no one speaking to salonbot: stored, not answered.
UNREADABLE_CONTENT = frozenset(
    {
        "animation",
        "audio",
        "checklist",
        "contact",
        "dice",
        "document",
        "game",
        "live_photo",
        "location",
        "paid_media",
        "photo",
        "poll",
        "sticker",
        "story",
        "venue",
        "video",
        "video_note",
        "voice",
    }
)
MAX_PROBLEMS = 5
MAX_PROBLEM = 200  # characters of one problem: a 300-deep reply chain has a long "where"


def parse_update(payload: Mapping[str, Any]) -> Update | Ignored:
    """The update aiogram reads from ``payload``, or why it cannot (where and what, never
    the values: they may be what a customer wrote)."""
    try:
        return Update.model_validate(dict(payload))
    except ValidationError as error:
        problems = [
            shorten(
                f"{'.'.join(str(place) for place in problem['loc'])}: {problem['msg']}", MAX_PROBLEM
            )
            for problem in error.errors(include_url=False, include_input=False)[:MAX_PROBLEMS]
        ]
        more = error.error_count() - len(problems)
        return Ignored(
            "unreadable update: " + "; ".join(problems) + (f" (and {more} more)" if more else "")
        )


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


def _from_message(message: Message) -> Translated | Ignored:
    user = message.from_user
    if message.chat.type != "private":
        # salonbot talks to customers one to one, never into a group or a channel
        return Ignored(f"a message in a {message.chat.type} chat")
    if user is None:
        return Ignored("a message with no sender")
    inbound: Inbound
    if message.contact is not None and message.contact.user_id == user.id:
        # The customer's own number (a request_contact button always names its sender); a
        # card without a user_id is someone from the phone book, not necessarily them.
        inbound = SharedContact(message.contact.phone_number)
    elif message.text is not None:
        inbound = parse_command(message.text) or Text(message.text)
    elif (kind := ContentType(message.content_type).value) in UNREADABLE_CONTENT:
        inbound = Unsupported(kind)  # someone else's contact card too: not the customer's number
    else:
        return Ignored(f"a service message ({kind})")
    return Translated(_contact(message.chat.id, user), inbound)


def _from_unreadable(payload: Mapping[str, Any], unreadable: Ignored) -> Translated | Ignored:
    """A message aiogram cannot read, answered from the fields salonbot needs when they
    are there, it is in a private chat and someone wrote it (text, or content salonbot
    answers as unsupported); otherwise still ``unreadable``."""
    message = part(payload, "message")
    chat, user = part(message, "chat"), part(message, "from")
    chat_id, user_id = _id(chat), _id(user)
    if text(chat, "type") != "private" or chat_id is None or user_id is None:
        return unreadable
    name = " ".join(found[:64] for key in ("first_name", "last_name") if (found := text(user, key)))
    language = text(user, "language_code")[:35] or None  # a BCP 47 tag is at most 35
    contact = ChatContact(CHANNEL, chat_id, user_id, name, language)
    said = text(message, "text")
    inbound: Inbound
    if said:
        inbound = parse_command(said) or Text(said)
    elif "text" in message or not UNREADABLE_CONTENT.isdisjoint(message):
        inbound = Unsupported("unreadable")  # someone sent what salonbot cannot read
    else:
        return unreadable  # a service message (a pinned message, ...): no one spoke
    return Translated(contact, inbound)


def _from_callback(callback: CallbackQuery) -> Translated | Ignored:
    message = callback.message  # an inaccessible one (date 0) still names its chat
    if message is not None and message.chat.type != "private":
        # A button of a message in a group: answering would speak into the group.
        return Ignored(f"a button tap in a {message.chat.type} chat")
    if not callback.data:
        return Ignored("a button tap with no data")
    chat_id = message.chat.id if message is not None else callback.from_user.id
    return Translated(_contact(chat_id, callback.from_user), Chosen(callback.data))


class TelegramInbound:
    """The inbound side of the channel, for the inbox worker."""

    name = CHANNEL
    capacity = CAPACITY

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def translate(self, payload: Mapping[str, Any]) -> Translated | Ignored:
        update = parse_update(payload)
        if isinstance(update, Ignored):
            log.warning(
                "telegram update not readable",
                extra={
                    "channel": CHANNEL,
                    "update_id": payload.get("update_id"),
                    "error": update.reason,
                },
            )
            return _from_unreadable(payload, update)
        if update.message is not None:
            return _from_message(update.message)
        if update.callback_query is not None:
            return _from_callback(update.callback_query)
        # Edits, channel posts, reactions...: nothing to answer.
        kind = next((k for k in payload if k != "update_id"), "nothing")
        return Ignored(f"an update of a kind salonbot does not answer ({kind[:40]})")

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
