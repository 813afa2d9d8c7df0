"""How much one message of a channel can hold, and fitting a list of choices into it.

Each channel declares its ``ChannelCapacity``; the conversation never offers more choices
than it allows or longer labels. A longer list is split into pages joined by "More" and
"Back" choices, which count against the same limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.conversation.messages import Choice

ELLIPSIS = "…"


def shorten(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """``text`` if it fits ``limit``, else cut to fit with an ellipsis at the end.

    ``measure`` counts what the limit is in: characters by default, or, say, UTF-16 code
    units; it must count each character as one or two units. Every channel cuts with this.
    """
    if measure(text) <= limit:
        return text
    room = max(0, limit - measure(ELLIPSIS))
    cut = text[:room]
    while (excess := measure(cut) - room) > 0:
        cut = cut[: len(cut) - max(1, excess // 2)]  # at most one unit more than needed
    return cut.rstrip() + ELLIPSIS


@dataclass(frozen=True, slots=True)
class ChannelCapacity:
    """The most choices one message may carry, and the longest label (in characters)."""

    choices_per_message: int
    label_length: int

    def __post_init__(self) -> None:
        # A page needs room for Back, More and at least one item.
        if self.choices_per_message < 3:
            raise ValueError("a channel must carry at least 3 choices per message")
        if self.label_length < 2:
            raise ValueError("a channel must allow labels of at least 2 characters")

    def fit_label(self, label: str) -> str:
        """The label cut to the channel's length, with an ellipsis when cut."""
        return shorten(" ".join(label.split()), self.label_length)


@dataclass(frozen=True, slots=True)
class Page:
    """The choices of one page, navigation included, and whether there are others."""

    choices: tuple[Choice, ...]
    number: int
    last: int


def paginate(
    items: Sequence[Choice],
    capacity: ChannelCapacity,
    number: int,
    more: Callable[[int], Choice],
    back: Callable[[int], Choice],
) -> Page:
    """Page ``number`` (from 0, clamped) of ``items`` within ``capacity``.

    ``more(n)`` and ``back(n)`` make the navigation choices that lead to page ``n``; they
    are added only where there is a next or a previous page. Labels are fitted to the
    channel; the order of ``items`` is kept across pages.
    """
    pages = _split(len(items), capacity.choices_per_message)
    number = max(0, min(number, len(pages) - 1))
    start, stop = pages[number]
    chosen = [_fitted(item, capacity) for item in items[start:stop]]
    if number > 0:
        chosen.insert(0, _fitted(back(number - 1), capacity))
    if number < len(pages) - 1:
        chosen.append(_fitted(more(number + 1), capacity))
    return Page(tuple(chosen), number, len(pages) - 1)


def _fitted(choice: Choice, capacity: ChannelCapacity) -> Choice:
    return Choice(choice.id, capacity.fit_label(choice.label))


def _split(count: int, per_message: int) -> list[tuple[int, int]]:
    """Item ranges per page: the first has no Back, the last no More, others both."""
    if count <= per_message:
        return [(0, count)]
    pages = [(0, per_message - 1)]
    while count - pages[-1][1] > per_message - 1:  # the rest does not fit one last page
        begin = pages[-1][1]
        pages.append((begin, begin + per_message - 2))
    pages.append((pages[-1][1], count))
    return pages
