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

CHANNEL = "whatsapp"
# A list holds 10 rows; reply buttons take 20 characters, list rows 24: labels fit both.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=20)
# An emoji reaction or a system notice (a changed number) asks for no answer.
IGNORED = frozenset({"reaction", "system"})


def _part(value: object, key: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        inner = value.get(key)
        if isinstance(inner, Mapping):
            return inner
    return {}


def _str(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    return found if isinstance(found, str) else ""


def _inbound(message: Mapping[str, Any]) -> Inbound:
    kind = _str(message, "type")
    if kind == "text":
        body = _str(_part(message, "text"), "body")
        stripped = body.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, payload = stripped[1:].partition(" ")
            return Command(name.lower(), payload.strip())
        return Text(body)
    if kind == "interactive":
        interactive = _part(message, "interactive")
        for reply_kind in ("button_reply", "list_reply"):
            picked = _str(_part(interactive, reply_kind), "id")
            if picked:
                return Chosen(picked)
    if kind == "button":  # a quick-reply button of a template
        payload = _str(_part(message, "button"), "payload")
        if payload:
            return Chosen(payload)
    return Unsupported(kind or "unknown")


class WhatsAppInbound:
    """The inbound side of the channel, for the inbox worker."""

    name = CHANNEL
    capacity = CAPACITY

    def translate(self, payload: Mapping[str, Any]) -> Translated | None:
        message = _part(payload, "message")
        wa_id = _str(message, "from")
        if not wa_id or _str(message, "type") in IGNORED:
            return None
        name = _str(_part(_part(payload, "contact"), "profile"), "name")
        # WhatsApp tells us no language: the salon's default, until the customer picks one.
        contact = ChatContact(CHANNEL, wa_id, wa_id, name, None)
        return Translated(contact, _inbound(message))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        """Nothing to stop spinning on WhatsApp."""
