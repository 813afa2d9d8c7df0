"""Where a chat stands, stored as JSON between steps, and the ids of the choices it offers.

A choice id is ``"<generation>.<op>[.<arg>]"``. The generation is bumped every time the
conversation shows a new screen, so a button from an older message carries an older
generation and is recognised as stale. A few ids are global (the main menu's entries):
they mean the same thing whenever they are tapped and carry no generation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
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
            isinstance(a, list) and all(isinstance(x, str) for x in a)
            for a in values["alternatives"]
        ):
            return cls()
        return cls(**values)

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


def decode(choice_id: str) -> Picked | None:
    """The choice behind an id, or None if it is not one of ours."""
    if choice_id in GLOBAL_CHOICES:
        return Picked(choice_id)
    generation, _, rest = choice_id.partition(".")
    op, _, arg = rest.partition(".")
    if not generation.isdigit() or not op:
        return None
    return Picked(op, arg, int(generation))
