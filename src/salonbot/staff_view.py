"""What ``salonbot staff link | unlink | list`` print."""

from __future__ import annotations

from datetime import UTC, datetime

from core.db.staff_chat_repository import StaffChat, StaffMember
from core.services.staff_link import DEEP_LINK_PREFIX, IssuedCode, LinkedStaff


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _who(member: StaffMember) -> str:
    return f"{member.name} ({member.key})"


def render_code(issued: IssuedCode) -> str:
    code = issued.code
    return "\n".join(
        [
            f"One-time code for {_who(issued.member)}: {code}",
            f"Valid until {_utc(issued.expires_at)}, once; a new code replaces it.",
            f"{issued.member.name} sends this to the bot, from the chat for the notices:",
            f"  /link {code}",
            f"(on Telegram the link https://t.me/<bot username>?start={DEEP_LINK_PREFIX}{code}"
            " does the same)",
        ]
    )


def render_unlinked(member: StaffMember, removed: int) -> str:
    if removed == 0:
        return f"{_who(member)} had no linked chat"
    return f"unlinked {_who(member)}: {removed} chat{'s' if removed != 1 else ''}"


def masked(chat_id: str) -> str:
    """Enough of a chat id to tell two apart, not enough to write to it."""
    shown = 4 if len(chat_id) > 6 else 2
    return "…" + chat_id[-shown:]


def _chat(chat: StaffChat) -> str:
    return f"{chat.channel} {masked(chat.chat_id)} ({chat.language}, since {_utc(chat.linked_at)})"


def render_linked(staff: list[LinkedStaff]) -> str:
    if not staff:
        return "no staff members yet: load a catalog first"
    lines = []
    for entry in staff:
        gone = "" if entry.member.active else " [no longer in the catalog]"
        where = "; ".join(_chat(chat) for chat in entry.chats) or "not linked"
        lines.append(f"{_who(entry.member)}{gone}: {where}")
    return "\n".join(lines)
