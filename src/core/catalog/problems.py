"""Problems in a catalog file, worded for the salon owner as ``path: value: reason``.

Pydantic's and PyYAML's errors are translated here: the path in the owner's own keys
(``staff[1].hours.mon[0].to``), the offending value quoted short, and a reason that says
what to write instead. Nothing here turns a whole value into text: a problem line stays
short however large the value it quotes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from core.catalog.limits import MAX_FILE_BYTES, MAX_PROBLEMS_SHOWN

_SHOWN = 60  # characters of a quoted value
_REASON = 200  # characters of a reason quoted from PyYAML


class CatalogError(Exception):
    """The catalog file is invalid; ``problems`` lists every ``path: value: reason``.

    The message is one line for one problem; several are listed a line each, the first
    ``MAX_PROBLEMS_SHOWN`` of them, and the rest counted.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        listed = list(problems[:MAX_PROBLEMS_SHOWN])
        if len(problems) > MAX_PROBLEMS_SHOWN:
            listed.append(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        if len(listed) == 1:
            super().__init__(f"invalid catalog: {listed[0]}")
        else:
            super().__init__("invalid catalog:\n  " + "\n  ".join(listed))
        self.problems = tuple(problems)


def file_too_large(size: str) -> CatalogError:
    """The problem of a file over ``MAX_FILE_BYTES``; ``size`` as it is known."""
    return CatalogError(
        [f"(file): {size}: too large; a catalog file may have at most {MAX_FILE_BYTES} bytes"]
    )


def show(value: object) -> str:
    """A value as quoted in a problem line: its repr, cut short if long.

    Only as much of the value is turned into text as is shown: a document of a billion
    values (YAML aliases) or a megabyte of text costs no more than a short one.
    """
    text = ""
    for piece in _pieces(value, set()):
        text += piece
        if len(text) > _SHOWN:
            return text[: _SHOWN - 3] + "..."
    return text


def clip(text: str, limit: int = _REASON) -> str:
    """``text`` cut to ``limit`` characters, marked with ``...`` where cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pieces(value: object, open_ids: set[int]) -> Iterator[str]:
    """``repr(value)`` in pieces, lazily, so the caller stops as soon as it has enough."""
    if isinstance(value, date):  # as the owner wrote it, not datetime.date(2026, 12, 24)
        yield repr(str(value))
        return
    if isinstance(value, str | bytes):
        # A prefix one longer than what is shown is enough to show that it is cut.
        yield repr(value[: _SHOWN + 1])
        return
    if not isinstance(value, list | tuple | dict | set | frozenset) or (
        isinstance(value, set | frozenset) and not value
    ):
        yield repr(value)
        return
    if id(value) in open_ids:  # a value that contains itself
        yield "[...]" if isinstance(value, list) else "{...}"
        return
    open_ids.add(id(value))
    if isinstance(value, list | tuple):  # tuples: the pairs of !!omap and !!pairs
        yield "[" if isinstance(value, list) else "("
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(item, open_ids)
        if isinstance(value, tuple):
            yield ",)" if len(value) == 1 else ")"
        else:
            yield "]"
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield from _pieces(key, open_ids)
            yield ": "
            yield from _pieces(item, open_ids)
        yield "}"
    else:
        yield "{" if isinstance(value, set) else "frozenset({"
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(item, open_ids)
        yield "}" if isinstance(value, set) else "})"
    open_ids.discard(id(value))


def _step(annotation: Any, part: str | int) -> Any:
    """The type found at ``part`` inside ``annotation`` (None when unknown)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _step(get_args(annotation)[0], part)
    if origin in (Union, UnionType):
        models = [arg for arg in get_args(annotation) if _model(arg) is not None]
        return _step(models[0], part) if models else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return get_args(annotation)[1]
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    while get_origin(annotation) in (Annotated, Union, UnionType):
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        # An optional section (``RemindersDoc | None``) has the keys of its model.
        models = [arg for arg in get_args(annotation) if _model(arg) is not None]
        if len(models) != 1:
            return None
        annotation = models[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _known_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
    model = _model(annotation)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


# Pydantic's wording replaced by the owner's: error type -> reason.
_REASONS = {
    "string_type": "expected text",
    "string_too_short": "must not be empty",
    "list_type": "expected a list",
    "too_short": "must not be empty",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "decimal_type": "expected a number such as 45 or 19.90",
    "decimal_parsing": "expected a number such as 45 or 19.90",
    "decimal_max_places": "at most 2 decimal places",
    "decimal_max_digits": "too large",
    "decimal_whole_digits": "too large",
    "greater_than_equal": "must not be negative",
    "date_type": "expected a date as YYYY-MM-DD",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "expected a date as YYYY-MM-DD, without a time",
    "finite_number": "expected a number such as 45 or 19.90",
}


def describe(error: Mapping[str, Any], root: type[BaseModel]) -> str:
    """One pydantic error as ``path: value: reason``."""
    loc = [
        part
        for part in error["loc"]
        if isinstance(part, int) or not part.startswith(("function-", "json-or-python", "["))
    ]
    # A key is part of the path, and the file may hold a key of a megabyte.
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{clip(part, 40)}" if i else clip(part, 40)
        for i, part in enumerate(loc)
    )
    path = path or "(top level)"
    kind, value = error["type"], error["input"]
    if kind == "missing":
        return f"{path}: missing: required"
    if kind == "extra_forbidden":
        known = _known_keys(root, loc[:-1])
        expected = f"; expected one of {', '.join(known)}" if known else ""
        return f"{path}: {show(value)}: unknown key{expected}"
    if kind == "value_error":
        reason = str(error["ctx"]["error"])
    elif kind == "greater_than_equal" and error["ctx"]["ge"] != 0:
        reason = f"must be at least {error['ctx']['ge']}"
    elif kind == "string_too_long":
        reason = f"too long; at most {error['ctx']['max_length']} characters"
    elif kind == "too_long":
        # The count, not the value: quoting a thousand services helps nobody.
        count, most = error["ctx"]["actual_length"], error["ctx"]["max_length"]
        counted = f"{count} entries" if count is not None else f"more than {most} entries"
        return f"{path}: {counted}: too many; at most {most}"
    else:
        reason = _REASONS.get(kind, str(error["msg"]))
    if kind == "string_type" and isinstance(value, bool):
        reason += " (YAML reads unquoted yes, no, on and off as true or false: quote it)"
    return f"{path}: {show(value)}: {reason}"


def describe_yaml(error: yaml.YAMLError) -> str:
    """A YAML syntax error as one line, with where it was found."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    if isinstance(error, yaml.MarkedYAMLError):
        reason = ", ".join(part for part in (error.context, error.problem) if part)
    else:
        reason = str(error)
    return f"(file): {where}: not valid YAML: {clip(' '.join(reason[: 2 * _REASON].split()))}"
