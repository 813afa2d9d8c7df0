"""WhatsApp messages in: one stored message (with its sender's profile) becomes an ``Inbound``.

The webhook stores each message as ``{"message": ..., "contact": ...}``: the message as
Meta sent it and the matching entry of ``value.contacts`` (the customer's profile name).

Who a customer is: their phone number (``from``, the ``wa_id``) when Meta gives it, else
their business-scoped user id (``from_user_id``, a BSUID such as ``US.13491208655302741918``):
a customer who set a WhatsApp username may hide their number, and the BSUID is then all we
get. Replies go back to the same id: ``to`` for a number, ``recipient`` for a BSUID (Meta's
"Business-scoped user IDs" page, developers.facebook.com/documentation/business-messaging/
whatsapp/business-scoped-user-ids).
"""

from __future__ import annotations

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


def sender(message: Mapping[str, Any]) -> str:
    """The customer's id: the phone number (``from``), else the BSUID (``from_user_id``);
    empty when the message has neither (or an absurd one)."""
    found = text(message, "from") or text(message, "from_user_id")
    return found if len(found) <= MAX_SENDER else ""


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
        if kind in IGNORED:
            return Ignored(IGNORED[kind])
        chat = sender(message)
        if not chat:
            return Ignored("a message with no sender")
        profile = part(part(payload, "contact"), "profile")
        name = text(profile, "name") or text(profile, "username")
        # WhatsApp tells us no language: the salon's default, until the customer picks one.
        contact = ChatContact(CHANNEL, chat, chat, name, None)
        return Translated(contact, _inbound(message))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Nothing to stop spinning on WhatsApp."""
