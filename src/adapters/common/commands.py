"""Slash commands, read the same way on every channel.

``/name``, ``/name payload`` and Telegram's ``/name@botname payload``: the name is Telegram's
command alphabet (ASCII letters, digits, underscore; at most 32), compared in lower case; the
payload is what follows the first run of whitespace, stripped, its inner spacing kept. Text
that only looks like a command (``/``, ``/ start``, ``/home/ada``, ``/привет``) is text.
"""

from __future__ import annotations

import re

from core.conversation.messages import Command

MAX_NAME = 32  # Telegram's BotCommand.command is 1-32 characters
_COMMAND = re.compile(
    rf"/(?P<name>\w{{1,{MAX_NAME}}})(?:@\w+)?(?:\s+(?P<payload>.*))?", re.ASCII | re.DOTALL
)


def parse_command(text: str) -> Command | None:
    """The command ``text`` gives, or None when it is not one."""
    found = _COMMAND.fullmatch(text.strip())
    if found is None:
        return None
    return Command(found["name"].lower(), (found["payload"] or "").strip())
