"""WhatsApp messages in: one stored message (with its sender's profile) becomes an ``Inbound``.

The webhook stores each message as ``{"message": ..., "contact": ...}``: the message as
Meta sent it and the matching entry of ``value.contacts`` (the customer's profile name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Chosen, Command, Inbound, Text, Unsupported
from core.ports import Translated
from core.untrusted_input import part, text

CHANNEL = "whatsapp"
# A list holds 10 rows; reply buttons take 20 characters, list rows 24: labels fit both.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=20)
# An emoji reaction or a system notice (a changed number) asks for no answer.
IGNORED = frozenset({"reaction", "system"})


def _inbound(message: Mapping[str, Any]) -> Inbound:
    kind = text(message, "type")
    if kind == "text":
        body = text(part(message, "text"), "body")
        stripped = body.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, payload = stripped[1:].partition(" ")
            return Command(name.lower(), payload.strip())
        return Text(body)
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

    def translate(self, payload: Mapping[str, Any]) -> Translated | None:
        message = part(payload, "message")
        wa_id = text(message, "from")
        if not wa_id or text(message, "type") in IGNORED:
            return None
        name = text(part(part(payload, "contact"), "profile"), "name")
        # WhatsApp tells us no language: the salon's default, until the customer picks one.
        contact = ChatContact(CHANNEL, wa_id, wa_id, name, None)
        return Translated(contact, _inbound(message))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Nothing to stop spinning on WhatsApp."""
