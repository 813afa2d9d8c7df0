"""Whatever a customer does, no reply breaks the channel's limits or the choice-id rules,
and no hold is left behind."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import (
    MAX_CHOICE_ID_BYTES,
    Chosen,
    Command,
    Inbound,
    Reply,
    SharedContact,
    Text,
)
from core.domain.booking import BookingStatus
from tests.unit.test_conversation_flows import Chat

capacities = st.builds(
    ChannelCapacity,
    choices_per_message=st.integers(min_value=3, max_value=12),
    label_length=st.integers(min_value=2, max_value=40),
)
COMMANDS = ["start", "book", "my", "cancel", "language", "help", "menu", "nope"]


def _check(reply: Reply, capacity: ChannelCapacity) -> None:
    assert reply.text.strip()
    assert len(reply.choices) <= capacity.choices_per_message
    assert len({c.id for c in reply.choices}) == len(reply.choices)  # ids tell choices apart
    for c in reply.choices:
        assert len(c.label) <= capacity.label_length
        assert c.id.isascii()
        assert c.id.isprintable()
        assert 1 <= len(c.id.encode()) <= MAX_CHOICE_ID_BYTES


def _check_holds(chat: Chat) -> None:
    """A hold exists exactly while the chat stands on a new booking's summary: none leaks."""
    held = [b.id for b in chat.mine(BookingStatus.HELD)]
    assert chat.stored is not None
    if chat.stored["screen"] == "summary" and chat.stored["mode"] == "book":
        assert held == [chat.stored["hold"]]
    else:
        assert held == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacity=capacities, language=st.sampled_from(["en", "ru"]), data=st.data())
def test_no_reply_exceeds_the_channel_or_offers_a_bad_choice_id(
    capacity: ChannelCapacity, language: str, data: st.DataObject
) -> None:
    chat = Chat(language=language, capacity=capacity)
    old_ids: list[str] = []

    def next_event() -> Inbound:
        kind = data.draw(st.sampled_from(["tap", "tap", "tap", "tap", "old", "text", "cmd", "x"]))
        if kind == "tap" and chat.reply.choices:
            return Chosen(data.draw(st.sampled_from(chat.reply.choices)).id)
        if kind == "old" and old_ids:
            return Chosen(data.draw(st.sampled_from(old_ids)))
        if kind == "cmd":
            return Command(data.draw(st.sampled_from(COMMANDS)))
        if kind == "x":
            return SharedContact(data.draw(st.text(max_size=20)))
        return Text(data.draw(st.text(max_size=30)))

    async def run() -> None:
        _check(await chat.command("start"), capacity)
        for _ in range(data.draw(st.integers(min_value=1, max_value=25))):
            old_ids.extend(c.id for c in chat.reply.choices)
            if data.draw(st.booleans()):
                chat.clock.advance(timedelta(minutes=data.draw(st.integers(0, 30))))
            _check(await chat.send(next_event()), capacity)
            _check_holds(chat)

    asyncio.run(run())
