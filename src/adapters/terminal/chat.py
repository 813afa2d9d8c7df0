"""The conversation in a terminal: numbered choices, free text and ``/commands``.

The terminal is a channel like any other: it turns lines into ``Inbound`` events, hands
them to the core, and prints the replies it is given. ``/phone NUMBER`` stands for
sharing a contact, and ``/quit`` (or end of input) leaves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from adapters.common.commands import parse_command
from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import (
    Choice,
    Chosen,
    Command,
    Inbound,
    Reply,
    SharedContact,
    Text,
)

CHANNEL = "terminal"
# Numbers 1-10 are quick to type; a terminal line is wide.
CAPACITY = ChannelCapacity(choices_per_message=10, label_length=48)
QUIT = frozenset({"quit", "exit"})

Exchange = Callable[[Inbound], Awaitable[Sequence[Reply]]]
ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]


def parse(line: str, offered: Sequence[Choice]) -> Inbound | None:
    """The event a typed line stands for; None for an empty line.

    A number picks that choice of the last menu; a number that is not on it is text.
    """
    text = line.strip()
    if not text:
        return None
    if (command := parse_command(text)) is not None:
        return SharedContact(command.payload) if command.name == "phone" else command
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(offered):
        return Chosen(offered[int(text) - 1].id)
    return Text(text)


def render(reply: Reply) -> str:
    lines = [reply.text]
    lines += [f"  {number}. {c.label}" for number, c in enumerate(reply.choices, start=1)]
    return "\n".join(lines)


class TerminalChat:
    """One person chatting with the salon through ``exchange`` until input ends."""

    def __init__(self, exchange: Exchange, read_line: ReadLine, write: Write) -> None:
        self._exchange = exchange
        self._read_line = read_line
        self._write = write
        self._offered: Sequence[Choice] = ()

    async def run(self) -> None:
        await self.send(Command("start"))
        while (line := await self._read_line()) is not None:
            if (command := parse_command(line)) is not None and command.name in QUIT:
                break
            await self.type_line(line)

    async def type_line(self, line: str) -> Sequence[Reply]:
        """What the person typed: a number picks from the last menu shown."""
        inbound = parse(line, self._offered)
        return () if inbound is None else await self.send(inbound)

    async def send(self, inbound: Inbound) -> Sequence[Reply]:
        """Send one event and print what comes back; the numbers then refer to its menu."""
        replies = await self._exchange(inbound)
        for reply in replies:
            self._write(render(reply) + "\n")
            if reply.choices:
                self._offered = reply.choices
        return replies
