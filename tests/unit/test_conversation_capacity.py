"""Replies never exceed what a channel can carry; long lists page with More and Back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.conversation.capacity import ChannelCapacity, paginate
from core.conversation.messages import MAX_CHOICE_ID_BYTES, Choice, check_choice_id

WHATSAPP_LIST = ChannelCapacity(choices_per_message=10, label_length=24)
WHATSAPP_BUTTONS = ChannelCapacity(choices_per_message=3, label_length=20)


def more(page: int) -> Choice:
    return Choice(f"nav:more:{page}", "More ▶")


def back(page: int) -> Choice:
    return Choice(f"nav:back:{page}", "◀ Back")


def items(count: int, label: str = "Option") -> list[Choice]:
    return [Choice(f"item:{i}", f"{label} {i}") for i in range(count)]


def all_pages(offered: list[Choice], capacity: ChannelCapacity) -> list[tuple[Choice, ...]]:
    pages = [paginate(offered, capacity, 0, more, back)]
    while pages[-1].number < pages[-1].last:
        pages.append(paginate(offered, capacity, pages[-1].number + 1, more, back))
    return [page.choices for page in pages]


def test_a_list_that_fits_is_one_page_without_navigation() -> None:
    page = paginate(items(10), WHATSAPP_LIST, 0, more, back)
    assert [c.id for c in page.choices] == [f"item:{i}" for i in range(10)]
    assert (page.number, page.last) == (0, 0)


def test_eleven_services_on_a_whatsapp_list_make_two_pages() -> None:
    pages = all_pages(items(11), WHATSAPP_LIST)
    assert [c.id for c in pages[0]] == [f"item:{i}" for i in range(9)] + ["nav:more:1"]
    assert [c.id for c in pages[1]] == ["nav:back:0", "item:9", "item:10"]


def test_three_reply_buttons_page_one_item_at_a_time_in_the_middle() -> None:
    pages = all_pages(items(5), WHATSAPP_BUTTONS)
    assert [[c.id for c in page] for page in pages] == [
        ["item:0", "item:1", "nav:more:1"],
        ["nav:back:0", "item:2", "nav:more:2"],
        ["nav:back:1", "item:3", "item:4"],
    ]


def test_a_long_label_is_cut_with_an_ellipsis() -> None:
    page = paginate(
        [Choice("svc:1", "Ламинирование ресниц и бровей")], WHATSAPP_BUTTONS, 0, more, back
    )
    assert page.choices[0].label == "Ламинирование ресни…"
    assert len(page.choices[0].label) == 20


def test_a_page_number_out_of_range_is_clamped_not_an_error() -> None:
    assert paginate(items(11), WHATSAPP_LIST, 7, more, back).number == 1
    assert paginate(items(11), WHATSAPP_LIST, -1, more, back).number == 0


@pytest.mark.parametrize("bad", ["", "é", "a" * (MAX_CHOICE_ID_BYTES + 1), "tab\there"])
def test_a_choice_id_is_short_printable_ascii(bad: str) -> None:
    with pytest.raises(ValueError, match="choice id"):
        check_choice_id(bad)


def test_a_channel_too_small_to_page_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        ChannelCapacity(choices_per_message=2, label_length=20)


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=120),
    per_message=st.integers(min_value=3, max_value=12),
    label_length=st.integers(min_value=2, max_value=40),
    label=st.text(min_size=1, max_size=60).filter(lambda text: text.strip() != ""),
)
def test_no_page_exceeds_the_channel_and_every_item_is_offered_once_in_order(
    count: int, per_message: int, label_length: int, label: str
) -> None:
    capacity = ChannelCapacity(per_message, label_length)
    offered = items(count, label)

    pages = all_pages(offered, capacity)

    for page in pages:
        assert len(page) <= per_message
        assert all(0 < len(c.label) <= label_length for c in page)
        assert all(len(c.id.encode()) <= MAX_CHOICE_ID_BYTES for c in page)
        assert sum(not c.id.startswith("nav:") for c in page) >= (1 if count else 0)
    seen = [c.id for page in pages for c in page if not c.id.startswith("nav:")]
    assert seen == [c.id for c in offered]
    for number, page in enumerate(pages):
        nav = [c.id for c in page if c.id.startswith("nav:")]
        expected = ([f"nav:back:{number - 1}"] if number else []) + (
            [f"nav:more:{number + 1}"] if number < len(pages) - 1 else []
        )
        assert nav == expected
