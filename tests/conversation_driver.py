"""Driving a conversation the way a customer does: tap a button by its label, type, command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from core.conversation.messages import Choice, Chosen, Command, Inbound, Reply, Text

Send = Callable[[Inbound], Awaitable[Sequence[Reply]]]


class Driver:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.reply = Reply("(nothing yet)")
        self.history: list[Reply] = []

    async def send(self, inbound: Inbound) -> Reply:
        replies = list(await self._send(inbound))
        assert len(replies) == 1, replies
        self.reply = replies[0]
        self.history.append(self.reply)
        return self.reply

    def choice(self, label: str) -> Choice:
        """The offered choice whose label contains ``label`` (exactly one must)."""
        found = [c for c in self.reply.choices if label.casefold() in c.label.casefold()]
        assert len(found) == 1, f"{label!r} among {[c.label for c in self.reply.choices]}"
        return found[0]

    def labels(self) -> list[str]:
        return [c.label for c in self.reply.choices]

    async def tap(self, label: str) -> Reply:
        return await self.send(Chosen(self.choice(label).id))

    async def tap_first(self, skip: int = 0) -> Reply:
        return await self.send(Chosen(self.reply.choices[skip].id))

    async def say(self, text: str) -> Reply:
        return await self.send(Text(text))

    async def command(self, name: str, payload: str = "") -> Reply:
        return await self.send(Command(name, payload))
