"""The shape of a YAML document, checked from its events before anything is built from it.

Building a document is where a hostile file does its harm: nesting a thousand levels deep
exhausts the recursion of the composer, and a few kilobytes of aliases ("billion laughs")
expand to billions of values once anything walks them. The events say both for the cost
of reading the text once, without recursion and without expanding an alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

from core.catalog.limits import MAX_DEPTH, MAX_VALUES
from core.catalog.problems import CatalogError, clip

# libyaml's parser when PyYAML was built with it (every wheel on PyPI): ten times faster.
_EventParser: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
_EventParser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(slots=True)
class _Open:
    """A list or mapping whose end has not been read yet."""

    anchor: str | None
    values_before: int  # values counted before it began
    height: int = 1  # levels of lists and mappings from it down, itself included


class _Mark(Protocol):
    line: int
    column: int


def _refuse(mark: _Mark | None, reason: str) -> CatalogError:
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    return CatalogError([f"(file): {where}: {reason}"])


def too_deep(mark: _Mark | None) -> CatalogError:
    """The problem of lists and mappings nested deeper than ``MAX_DEPTH``."""
    return _refuse(mark, _TOO_DEEP)


_TOO_DEEP = f"lists and mappings nested more than {MAX_DEPTH} levels deep; a catalog needs 8"
_TOO_MANY = f"more than {MAX_VALUES} values; too large for a catalog"
_REPEATS = " (an alias counts as all it repeats)"


def check_shape(text: str) -> None:
    """Refuse a document nested deeper than ``MAX_DEPTH`` or of more than ``MAX_VALUES`` values.

    An alias counts as the whole value it names, and an alias inside the value it names (a
    value that contains itself) is refused. Raises ``CatalogError`` with one problem, or
    ``yaml.YAMLError`` for text that is not YAML.
    """
    parser = _EventParser(text)
    try:
        opened: list[_Open] = []
        anchored: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)
        values = 0
        while parser.check_event():
            event = parser.get_event()
            height = 0  # of the value this event completes; a scalar has none
            if isinstance(event, CollectionStartEvent):
                if len(opened) >= MAX_DEPTH:
                    raise too_deep(event.start_mark)
                opened.append(_Open(event.anchor, values))
                values += 1
                continue
            if isinstance(event, CollectionEndEvent):
                node = opened.pop()
                height = node.height
                if node.anchor is not None:
                    anchored[node.anchor] = (values - node.values_before, height)
            elif isinstance(event, ScalarEvent):
                values += 1
                if event.anchor is not None:
                    anchored[event.anchor] = (1, 0)
            elif isinstance(event, AliasEvent):
                if any(node.anchor == event.anchor for node in opened):
                    name = clip(event.anchor or "", 40)
                    raise _refuse(event.start_mark, f"*{name}: a value that contains itself")
                # An unknown anchor is the composer's to report, with its name.
                size, height = anchored.get(event.anchor or "", (1, 0))
                values += size
                if values > MAX_VALUES:
                    raise _refuse(event.start_mark, _TOO_MANY + _REPEATS)
                if len(opened) + height > MAX_DEPTH:
                    raise _refuse(event.start_mark, _TOO_DEEP + _REPEATS)
            else:
                continue  # stream and document boundaries
            if values > MAX_VALUES:
                raise _refuse(event.start_mark, _TOO_MANY)
            if opened:
                opened[-1].height = max(opened[-1].height, height + 1)
    finally:
        parser.dispose()
