"""Where a chat stands, stored as JSON between steps, and the ids of the choices it offers.

A choice id is ``"<generation>.<op>[.<arg>]"`` (``Op``). The generation is bumped every time
the conversation shows a new screen, so a button from an older message carries an older
generation and is recognised as stale. A choice valid from any state is
``"<op>[.<arg>]"`` (``Anywhere``): it means the same thing whenever it is tapped and carries
no generation. Both forms are wire format: ids already sent must keep decoding.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from core.conversation.contract import Anywhere, Mode, Op, Screen
from core.conversation.messages import Choice

ANY_STAFF = "*"
_STAMP = "%Y%m%d%H%M"
# Exactly what ``stamp`` writes: 12 ASCII digits (strptime alone takes 11, or "1" for "01").
_STAMP_SHAPE = re.compile(r"[0-9]{12}")


@dataclass
class State:
    """The chat's position. Unknown or missing fields in stored JSON fall back to defaults."""

    screen: Screen = Screen.MENU
    generation: int = 0
    page: int = 0
    mode: Mode = Mode.BOOK
    category: str | None = None
    service: str | None = None
    staff: str | None = None  # a staff key, or ANY_STAFF
    day: str | None = None  # local date, ISO
    start: str | None = None  # UTC instant, ISO
    hold: int | None = None  # the hold taken for the summary
    booking: int | None = None  # the visit being looked at, cancelled or moved
    alternatives: list[list[str]] = field(default_factory=list)  # [[stamp, staff], ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"screen": self.screen.value, "mode": self.mode.value}

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
        # A screen or mode this version does not know (a newer or older one) starts over at
        # the menu, its generation kept so that the buttons already sent stay stale.
        screen, mode = _SCREENS.get(values["screen"]), _MODES.get(values["mode"])
        if screen is None or mode is None:
            kept = cls(generation=values["generation"])
            return kept if kept._adds_up() else cls()
        values["screen"], values["mode"] = screen, mode
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
        chosen_time = self.hold if self.mode is Mode.BOOK else self.start
        needs: dict[Screen, tuple[str | int | None, ...]] = {
            Screen.STAFF: (self.service,),
            Screen.DAY: (self.service,),
            Screen.TIME: (self.service, self.day),
            Screen.TAKEN: (self.service, self.day),
            Screen.SUMMARY: (self.service, self.day, chosen_time),
            Screen.VISIT: (self.booking,),
            Screen.CANCEL: (self.booking,),
        }
        if self.mode is Mode.MOVE:
            needs[Screen.SUMMARY] += (self.booking,)
        return None not in needs.get(self.screen, ())

    def restart(self, screen: Screen, mode: Mode = Mode.BOOK) -> State:
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
_SCREENS = {screen.value: screen for screen in Screen}
_MODES = {mode.value: mode for mode in Mode}
_OPS = {op.value: op for op in Op}
_ANYWHERE = {op.value: op for op in Anywhere}


def stamp(moment: datetime) -> str:
    """A UTC instant as 12 digits, short enough for a choice id."""
    return moment.astimezone(UTC).strftime(_STAMP)


def from_stamp(text: str) -> datetime | None:
    """The UTC minute ``text`` names (``yyyymmddHHMM``, exactly 12 ASCII digits), else None."""
    if not _STAMP_SHAPE.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Picked:
    """A decoded choice id: the operation, its argument, and its generation (None: anywhere)."""

    op: Op | Anywhere
    arg: str = ""
    generation: int | None = None


def choice(generation: int, op: Op, label: str, arg: str = "") -> Choice:
    """A choice bound to the screen of ``generation``."""
    return Choice(f"{generation}.{op.value}.{arg}" if arg else f"{generation}.{op.value}", label)


def global_choice(op: Anywhere, label: str, arg: str = "") -> Choice:
    """A choice valid from any state and any message."""
    return Choice(f"{op.value}.{arg}" if arg else op.value, label)


# ASCII digits only (str.isdigit also accepts "²", which int() refuses); an argument is a
# catalog key, a stamp, a day, a number or "stamp.staff".
_ARG = r"(?:\.([a-z0-9_*.-]{1,52}))?"
_CHOICE_ID = re.compile(r"(\d{1,9})\.([a-z]{1,4})" + _ARG, re.ASCII)
_ANYWHERE_ID = re.compile(r"([a-z]{1,4})" + _ARG, re.ASCII)


def decode(choice_id: str) -> Picked | None:
    """The choice behind an id, or None if it is not one of ours."""
    if matched := _ANYWHERE_ID.fullmatch(choice_id):
        anywhere = _ANYWHERE.get(matched[1])
        return None if anywhere is None else Picked(anywhere, matched[2] or "")
    matched = _CHOICE_ID.fullmatch(choice_id)
    if matched is None:
        return None
    generation, op, arg = matched.groups()
    known = _OPS.get(op)
    return None if known is None else Picked(known, arg or "", int(generation))


def small_number(text: str) -> int | None:
    """``text`` as a non-negative int that fits a database bigint, else None."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)
