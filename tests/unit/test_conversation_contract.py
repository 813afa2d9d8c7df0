"""The conversation's contract: every screen has its page, ids and states already out in the
world keep their meaning, and every button a screen offers is one that screen handles."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conversation.contract import Anywhere, Mode, Op, Screen
from core.conversation.dialogue import ANYWHERE, PAGES
from core.conversation.messages import Chosen
from core.conversation.state import Picked, State, decode
from tests.unit.test_conversation_flows import Chat

STALE = "That button is from an earlier message."


def test_every_screen_has_a_page_and_every_choice_valid_anywhere_a_handler() -> None:
    assert set(PAGES) == set(Screen)
    assert set(ANYWHERE) == set(Anywhere)


@pytest.mark.parametrize("op", [*Op, *Anywhere], ids=str)
def test_every_operation_fits_a_choice_id_and_decodes_to_itself(op: Op | Anywhere) -> None:
    assert re.fullmatch(r"[a-z]{1,4}", op.value)
    if isinstance(op, Op):
        assert decode(f"3.{op.value}") == Picked(op, "", 3)
    else:
        assert decode(op.value) == Picked(op)


@pytest.mark.parametrize(
    ("choice_id", "picked"),
    [
        ("book", Picked(Anywhere.BOOK)),
        ("my", Picked(Anywhere.MY_BOOKINGS)),
        ("lang", Picked(Anywhere.LANGUAGE)),
        ("help", Picked(Anywhere.HELP)),
        ("menu", Picked(Anywhere.MENU)),
        ("cv.12.202612090900", Picked(Anywhere.CONFIRM_VISIT, "12.202612090900")),
        ("rv.12.202612090900", Picked(Anywhere.RESCHEDULE_VISIT, "12.202612090900")),
        ("cx.12.202612090900", Picked(Anywhere.CANCEL_VISIT, "12.202612090900")),
        ("7.p.2", Picked(Op.PAGE, "2", 7)),
        ("7.back", Picked(Op.BACK, "", 7)),
        ("7.l.ru", Picked(Op.LANGUAGE, "ru", 7)),
        ("7.c.nails", Picked(Op.CATEGORY, "nails", 7)),
        ("7.s.manicure", Picked(Op.SERVICE, "manicure", 7)),
        ("7.m.*", Picked(Op.STAFF, "*", 7)),
        ("7.d.20261208", Picked(Op.DAY, "20261208", 7)),
        ("7.t.202612081000", Picked(Op.TIME, "202612081000", 7)),
        ("7.a.202612081000.anna", Picked(Op.ALTERNATIVE, "202612081000.anna", 7)),
        ("7.ok", Picked(Op.CONFIRM, "", 7)),
        ("7.quit", Picked(Op.QUIT, "", 7)),
        ("7.v.12", Picked(Op.VISIT, "12", 7)),
        ("7.r", Picked(Op.RESCHEDULE, "", 7)),
        ("7.x", Picked(Op.ASK_CANCEL, "", 7)),
        ("7.xy", Picked(Op.CANCEL, "", 7)),
    ],
)
def test_choice_ids_already_sent_keep_their_meaning(choice_id: str, picked: Picked) -> None:
    assert decode(choice_id) == picked


@pytest.mark.parametrize("choice_id", ["7.zz", "7.book", "zz", "book.", "7", "7.BACK"])
def test_ids_with_an_operation_we_do_not_have_are_not_ours(choice_id: str) -> None:
    assert decode(choice_id) is None


def test_a_state_stored_by_an_earlier_version_loads_as_it_was() -> None:
    stored = {
        "screen": "summary",
        "generation": 41,
        "page": 0,
        "mode": "move",
        "category": "nails",
        "service": "manicure",
        "staff": "maria",
        "day": "2026-12-09",
        "start": "202612090900",
        "hold": None,
        "booking": 3,
        "alternatives": [],
    }
    state = State.from_json(stored)
    assert (state.screen, state.mode, state.generation) == (Screen.SUMMARY, Mode.MOVE, 41)
    assert state.to_json() == stored


def test_a_stored_screen_this_version_does_not_know_starts_over_keeping_its_generation() -> None:
    assert State.from_json({"screen": "reminder", "generation": 41}) == State(generation=41)
    assert State.from_json({"mode": "gift", "generation": 41}) == State(generation=41)


@pytest.mark.parametrize("extra", ["menu.x", "book.1", "help.help"])
async def test_a_choice_valid_anywhere_with_an_argument_it_does_not_take_is_stale(
    extra: str,
) -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    reply = await chat.send(Chosen(extra))
    assert reply.text.startswith(STALE)
    assert chat.screen == "category"


async def test_back_with_an_argument_is_stale() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    back = chat.choice("Menu")
    reply = await chat.send(Chosen(back.id + ".x"))
    assert reply.text.startswith(STALE)
    assert chat.screen == "category"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_button_a_screen_offers_is_handled_by_that_screen(data: st.DataObject) -> None:
    chat = Chat()

    async def run() -> None:
        await chat.command("start")
        for _ in range(data.draw(st.integers(min_value=1, max_value=20))):
            offered = data.draw(st.sampled_from(chat.reply.choices))
            reply = await chat.send(Chosen(offered.id))
            assert not reply.text.startswith(STALE), (offered, reply.text)

    asyncio.run(run())
