"""What salonbot posts to the Cloud API never breaks one of its limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.whatsapp.sender import message_payload
from core.conversation.messages import Choice, Reply

labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(str.strip)
replies = st.builds(
    Reply,
    text=st.text(min_size=1, max_size=5000).filter(str.strip),
    choices=st.lists(labels, max_size=10).map(
        lambda names: tuple(Choice(f"{i}.x", name) for i, name in enumerate(names))
    ),
    button=st.text(max_size=30),
)


@given(replies)
def test_every_payload_is_within_the_cloud_api_limits(reply: Reply) -> None:
    payload = message_payload("491511111111", reply)
    assert payload["messaging_product"] == "whatsapp"
    if not reply.choices:
        assert payload["type"] == "text"
        assert 1 <= len(payload["text"]["body"]) <= 4096
        return
    interactive = payload["interactive"]
    if interactive["type"] == "button":
        buttons = interactive["action"]["buttons"]
        titles = [b["reply"]["title"] for b in buttons]
        assert 1 <= len(buttons) <= 3
        assert all(1 <= len(t) <= 20 for t in titles)
        assert len(set(titles)) == len(titles)
        assert len(interactive["body"]["text"]) <= 1024
    else:
        rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
        assert 1 <= len(rows) <= 10
        assert all(1 <= len(r["title"]) <= 24 and len(r["id"]) <= 200 for r in rows)
        assert 1 <= len(interactive["action"]["button"]) <= 20
        assert len(interactive["body"]["text"]) <= 4096


def test_three_short_choices_are_buttons_and_four_a_list() -> None:
    three = Reply(
        "Confirm?", (Choice("1.ok", "Confirm"), Choice("1.back", "Back"), Choice("1.q", "Cancel"))
    )
    four = Reply("Menu", tuple(Choice(f"{i}.m", f"Option {i}") for i in range(4)), "Choose")
    assert message_payload("1", three)["interactive"]["type"] == "button"
    listed = message_payload("1", four)["interactive"]
    assert listed["type"] == "list"
    assert listed["action"]["button"] == "Choose"


def test_duplicate_labels_or_a_long_body_fall_back_to_a_list() -> None:
    same = Reply("Pick", (Choice("1.a", "10:00"), Choice("1.b", "10:00")))
    long = Reply("x" * 1025, (Choice("1.a", "Yes"),))
    assert message_payload("1", same)["interactive"]["type"] == "list"
    assert message_payload("1", long)["interactive"]["type"] == "list"


def test_a_customer_known_by_a_bsuid_is_named_in_recipient_a_number_in_to() -> None:
    by_number = message_payload("491511111111", Reply("Hello"))
    by_bsuid = message_payload("DE.13491208655302741918", Reply("Hello"))
    assert (by_number["to"], "recipient" in by_number) == ("491511111111", False)
    assert (by_bsuid["recipient"], "to" in by_bsuid) == ("DE.13491208655302741918", False)
