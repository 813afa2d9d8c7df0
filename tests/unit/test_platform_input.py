"""Reading platform input: bounded bodies, strict JSON, values Postgres can keep."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.common.platform_input import objects, part, read_limited, storable, strict_json, text


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for chunk in parts:
        yield chunk


async def test_a_body_is_read_whole_within_the_limit_and_refused_past_it() -> None:
    assert await read_limited(_chunks(b"ab", b"cd"), None, 4) == b"abcd"
    assert await read_limited(_chunks(b"ab", b"cde"), None, 4) is None
    assert await read_limited(_chunks(b"ab"), "5", 4) is None  # declared too long: not read
    assert await read_limited(_chunks(b"ab"), "-1", 4) is None


@pytest.mark.parametrize("body", [b"NaN", b'{"x": Infinity}', b'{"x": -Infinity}', b"\xff", b"{"])
def test_strict_json_refuses_what_json_does_not_allow(body: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        strict_json(body)


def test_storable_drops_nul_and_refuses_infinities_and_lone_surrogates() -> None:
    assert storable({"t": "a\x00b", "l": ["\x00"]}) == {"t": "ab", "l": [""]}
    kept = {"t": "ok"}
    assert storable(kept) is kept
    for bad in ({"x": float("inf")}, {"x": "\ud800"}, {"\udfff": 1}):
        with pytest.raises(ValueError, match=r"not storable|Out of range|JSON"):
            storable(bad)


def test_accessors_answer_empty_for_the_wrong_shape() -> None:
    value = {"a": {"b": 1}, "l": [{"x": 1}, 2, "s"], "s": "t", "n": 3}
    assert part(value, "a") == {"b": 1}
    assert part(value, "l") == {}
    assert part("not a mapping", "a") == {}
    assert objects(value, "l") == [{"x": 1}]
    assert objects(value, "a") == []
    assert text(value, "s") == "t"
    assert text(value, "n") == ""
