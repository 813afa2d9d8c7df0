"""Cutting text to a limit, with an ellipsis: one rule for labels, Telegram and WhatsApp."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conversation.capacity import ELLIPSIS, shorten


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


MEASURES: list[Callable[[str], int]] = [len, utf16]


def test_text_that_fits_is_kept_as_it_is() -> None:
    assert shorten("Manicure  ", 10) == "Manicure  "
    assert shorten("", 1) == ""


def test_longer_text_is_cut_with_an_ellipsis_and_no_dangling_space() -> None:
    assert shorten("Classic manicure", 10) == "Classic m…"
    assert shorten("Classic  manicure", 9) == "Classic…"


def test_utf16_counts_an_emoji_as_two_and_never_splits_it() -> None:
    assert shorten("ab💅💅💅", 5, utf16) == "ab💅…"
    assert shorten("💅💅💅", 4, utf16) == "💅…"


@pytest.mark.parametrize("measure", MEASURES)
@given(text=st.text(max_size=300), limit=st.integers(min_value=2, max_value=120))
def test_a_cut_text_fits_ends_with_the_ellipsis_and_starts_like_the_text(
    measure: Callable[[str], int], text: str, limit: int
) -> None:
    cut = shorten(text, limit, measure)
    assert measure(cut) <= limit
    if cut != text:
        assert cut.endswith(ELLIPSIS)
        assert text.startswith(cut[:-1])
        kept = cut[:-1]
        # Never shorter than needed (one wide character at most), unless spaces were dropped.
        assert measure(kept) >= limit - 2 or text[len(kept)].isspace()
