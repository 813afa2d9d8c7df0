"""Where a chat stands, stored as JSON between steps, and the ids of the choices it offers.

A choice id is ``"<generation>.<op>[.<arg>]"``. The generation is bumped every time the
conversation shows a new screen, so a button from an older message carries an older
generation and is recognised as stale. A few ids are global (the main menu's entries):
they mean the same thing whenever they are tapped and carry no generation.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from core.conversation.messages import Choice

# The main menu's entries: valid in any state, from any message.
BOOK, MY_BOOKINGS, LANGUAGE, HELP, MENU = "book", "my", "lang", "help", "menu"
GLOBAL_CHOICES = frozenset({BOOK, MY_BOOKINGS, LANGUAGE, HELP, MENU})

ANY_STAFF = "*"
_STAMP = "%Y%m%d%H%M"


@dataclass
class State:
    """The chat's position. Unknown or missing fields in stored JSON fall back to defaults."""

    screen: str = "menu"
    generation: int = 0
    page: int = 0
    # "book" a new visit or "move" an existing one (``booking``).
    mode: str = "book"
    category: str | None = None
    service: str | None = None
    staff: str | None = None  # a staff key, or ANY_STAFF
    day: str | None = None  # local date, ISO
    start: str | None = None  # UTC instant, ISO
    hold: int | None = None  # the hold taken for the summary
    booking: int | None = None  # the visit being looked at, cancelled or moved
    alternatives: list[list[str]] = field(default_factory=list)  # [[stamp, staff], ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        """The stored state; one that does not fit (an older or damaged shape) starts over."""
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, getattr(defaults, f.name))
            expected = _SHAPES[f.name]
            if value is not None and not isinstance(value, expected):
                return cls()
            if value is None and f.name in _REQUIRED:
                return cls()
            values[f.name] = value
        if not all(
            isinstance(a, list) and len(a) == 2 and all(isinstance(x, str) for x in a)
            for a in values["alternatives"]
        ):
            return cls()
        state = cls(**values)
        return state if state._adds_up() else cls()

    def _adds_up(self) -> bool:
        """Whether the screen has what it needs to be drawn (a stored state may not)."""
        if not 0 <= self.generation < 10**9 or self.page < 0:
            return False
        if self.day is not None:
            try:
                date.fromisoformat(self.day)
            except ValueError:
                return False
        chosen_time = self.hold if self.mode == "book" else self.start
        needs: dict[str, tuple[str | int | None, ...]] = {
            "staff": (self.service,),
            "day": (self.service,),
            "time": (self.service, self.day),
            "taken": (self.service, self.day),
            "summary": (self.service, self.day, chosen_time),
            "visit": (self.booking,),
            "cancel": (self.booking,),
        }
        if self.mode == "move":
            needs["summary"] += (self.booking,)
        return None not in needs.get(self.screen, ())

    def restart(self, screen: str, mode: str = "book") -> State:
        """A fresh position on ``screen``, the flow in progress forgotten; same generation."""
        return State(screen=screen, mode=mode, generation=self.generation)


_SHAPES: dict[str, type | tuple[type, ...]] = {
    "screen": str,
    "generation": int,
    "page": int,
    "mode": str,
    "category": str,
    "service": str,
    "staff": str,
    "day": str,
    "start": str,
    "hold": int,
    "booking": int,
    "alternatives": list,
}
_REQUIRED = frozenset({"screen", "generation", "page", "mode", "alternatives"})


def stamp(moment: datetime) -> str:
    """A UTC instant as 12 digits, short enough for a choice id."""
    return moment.astimezone(UTC).strftime(_STAMP)


def from_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Picked:
    """A decoded choice id: the operation, its argument, and its generation (None: global)."""

    op: str
    arg: str = ""
    generation: int | None = None


def choice(generation: int, op: str, label: str, arg: str = "") -> Choice:
    """A choice bound to the screen of ``generation``."""
    return Choice(f"{generation}.{op}.{arg}" if arg else f"{generation}.{op}", label)


def global_choice(op: str, label: str) -> Choice:
    return Choice(op, label)


# ASCII digits only (str.isdigit also accepts "²", which int() refuses); an argument is a
# catalog key, a stamp, a day, a number or "stamp.staff".
_CHOICE_ID = re.compile(r"(\d{1,9})\.([a-z]{1,4})(?:\.([a-z0-9_*.-]{1,52}))?", re.ASCII)


def decode(choice_id: str) -> Picked | None:
    """The choice behind an id, or None if it is not one of ours."""
    if choice_id in GLOBAL_CHOICES:
        return Picked(choice_id)
    matched = _CHOICE_ID.fullmatch(choice_id)
    if matched is None:
        return None
    generation, op, arg = matched.groups()
    return Picked(op, arg or "", int(generation))


def small_number(text: str) -> int | None:
    """``text`` as a non-negative int that fits a database bigint, else None."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)
