"""WhatsApp messages in: one stored message (with its sender's profile) becomes an ``Inbound``.

The webhook stores each message as ``{"message": ..., "contact": ...}``: the message as
Meta sent it and the matching entry of ``value.contacts`` (the customer's profile name).

Who a customer is: their business-scoped user id (``from_user_id``, a BSUID such as
``US.13491208655302741918``) whenever the message carries one, else their phone number
(``from``, the ``wa_id``). Meta puts the BSUID in every messages webhook, but the number only
while its rules let it share it: a customer who sets a WhatsApp username may hide it. Keyed by
the BSUID, a customer stays one customer (bookings, conversation, queue) when their number
disappears; the number, when it comes too, is kept as the new customer's phone. Replies go
back to the key: ``recipient`` for a BSUID, ``to`` for a number (Meta's "Business-scoped
user IDs" page, developers.facebook.com/documentation/business-messaging/whatsapp/
business-scoped-user-ids).

A BSUID changes when the customer changes their number, or on Meta's side: Meta then sends a
``system`` notice (``user_changed_number`` or ``user_changed_user_id``) with the previous and
the new id. salonbot does not move the customer to the new id (their next message starts a
new customer); the notice is logged as a warning with both ids, so staff can see it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from adapters.common.commands import parse_command
from adapters.common.platform_input import part, text
from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Chosen, Inbound, Text, Unsupported
from core.ports import Ignored, Translated

CHANNEL = "whatsapp"
# A list holds 10 rows; reply buttons take 20 characters, list rows 24: labels fit both.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=20)
# Kinds that ask for no answer, and why.
IGNORED = {
    "reaction": "an emoji reaction",
    "system": "a system notice (a changed number, say)",
    "revoke": "the customer deleted a message",
    # An edit changes a message the conversation has already answered (and moved on from):
    # answering it again would replay an old step, so it is kept, not answered.
    "edit": "the customer edited an earlier message",
}
MAX_SENDER = 200  # a phone number has at most 15 digits, a BSUID about 140 characters
MAX_PHONE_DIGITS = 15  # E.164
# System notices that say the customer's BSUID changed (Meta's system messages reference).
ID_CHANGES = frozenset({"user_changed_number", "user_changed_user_id"})

log = logging.getLogger("salonbot.whatsapp")


def sender(message: Mapping[str, Any]) -> str:
    """The customer's key: the BSUID (``from_user_id``) whenever the message has one, else
    the phone number (``from``); empty when it has neither (or an absurd one). The key never
    changes when Meta stops sharing the number."""
    found = text(message, "from_user_id") or text(message, "from")
    return found if len(found) <= MAX_SENDER else ""


def phone(message: Mapping[str, Any]) -> str | None:
    """The customer's number as ``+<digits>`` when the message shares it, else None."""
    number = text(message, "from")
    if number.isascii() and number.isdecimal() and len(number) <= MAX_PHONE_DIGITS:
        return "+" + number
    return None


def addressee(chat_id: str) -> dict[str, str]:
    """The field of a send that names the customer: ``to`` for a phone number, ``recipient``
    for a BSUID (``to`` wins when a body has both, so a send never has both)."""
    return {"to": chat_id} if chat_id.isdecimal() else {"recipient": chat_id}


def _inbound(message: Mapping[str, Any]) -> Inbound:
    kind = text(message, "type")
    if kind == "text":
        body = text(part(message, "text"), "body")
        return parse_command(body) or Text(body)
    if kind == "interactive":
        interactive = part(message, "interactive")
        for reply_kind in ("button_reply", "list_reply"):
            picked = text(part(interactive, reply_kind), "id")
            if picked:
                return Chosen(picked)
    if kind == "button":  # a quick-reply button of a template
        payload = text(part(message, "button"), "payload")
        if payload:
            return Chosen(payload)
    return Unsupported(kind or "unknown")


def _log_id_change(system: Mapping[str, Any]) -> None:
    if text(system, "type") not in ID_CHANGES:
        return
    previous, new = text(system, "previous_user_id"), text(system, "user_id")
    if previous and new and previous != new:
        log.warning(
            "whatsapp customer's BSUID changed: they will arrive as a new customer",
            extra={
                "channel": CHANNEL,
                "change": text(system, "type")[:40],
                "previous_user_id": previous[:MAX_SENDER],
                "user_id": new[:MAX_SENDER],
            },
        )


class WhatsAppInbound:
    """The inbound side of the channel, for the inbox worker."""

    name = CHANNEL
    capacity = CAPACITY

    def translate(self, payload: Mapping[str, Any]) -> Translated | Ignored:
        message = part(payload, "message")
        if "group_id" in message:
            # A booking bot does not answer group chatter, least of all privately.
            return Ignored("a message in a group")
        kind = text(message, "type")
        if kind == "system":
            _log_id_change(part(message, "system"))
        if kind in IGNORED:
            return Ignored(IGNORED[kind])
        chat = sender(message)
        if not chat:
            return Ignored("a message with no sender")
        profile = part(part(payload, "contact"), "profile")
        name = text(profile, "name") or text(profile, "username")
        # WhatsApp tells us no language: the salon's default, until the customer picks one.
        number = phone(message)
        contact = ChatContact(
            CHANNEL,
            chat,
            chat,
            name,
            None,
            phone=number,
            # Customers from before salonbot keyed by BSUID are stored under their number
            # (the digits of ``from``): they move to the BSUID on their first message that
            # carries both.
            former_external_id=number[1:] if number and number[1:] != chat else None,
        )
        return Translated(contact, _inbound(message))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Nothing to stop spinning on WhatsApp."""
