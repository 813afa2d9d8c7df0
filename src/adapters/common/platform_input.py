"""Reading what a platform sends us: bounded, and never trusting its shape.

Webhook bodies are read with a size limit, parsed as strict JSON (no NaN or Infinity), and
picked apart with accessors that return an empty value for anything of the wrong type, so
a malformed update is answered or skipped, never a crash. Used by every channel's adapter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any


async def read_limited(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit: int
) -> bytes | None:
    """The body, or None when it is (or declares to be) over ``limit`` bytes; reading stops
    there, so an oversized body is never held whole."""
    if declared_length is not None and (
        not declared_length.isdecimal() or int(declared_length) > limit
    ):
        return None
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts, JSON does not


def strict_json(body: bytes) -> Any:
    """Parse ``body``; ValueError (or RecursionError, for absurd nesting) if it is not JSON."""
    return json.loads(body, parse_constant=_no_constants)


def storable(value: Any) -> Any:
    """``value`` as Postgres can keep it in JSONB (NUL characters dropped); ValueError when
    it cannot be kept at all (an infinity such as 1e400, a lone surrogate, absurd nesting)."""
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
        encoded.encode()
        return _without_nul(value) if "\\u0000" in encoded else value
    except (UnicodeEncodeError, RecursionError) as error:
        raise ValueError(f"not storable: {type(error).__name__}") from None


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def part(value: object, key: str) -> Mapping[str, Any]:
    """``value[key]`` when both are objects, else an empty object."""
    if isinstance(value, Mapping):
        inner = value.get(key)
        if isinstance(inner, Mapping):
            return inner
    return {}


def objects(value: object, key: str) -> list[Mapping[str, Any]]:
    """The objects in the list ``value[key]``, skipping anything else."""
    found = value.get(key) if isinstance(value, Mapping) else None
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def text(value: Mapping[str, Any], key: str) -> str:
    """``value[key]`` when it is a string, else an empty string."""
    found = value.get(key)
    return found if isinstance(found, str) else ""
