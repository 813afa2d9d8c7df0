"""Forged and stale choice ids of the current generation: whatever their argument, the
customer gets the stale-button answer and the screen they stand on; nothing is raised."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conversation.messages import Chosen
from core.domain.booking import BookingStatus
from tests.unit.test_conversation_flows import Chat

STALE = "That button is from an earlier message. Here is where we are now:"
EXTREME_DAYS = ["00010101", "99991231", "00000000", "20261340", "99999999", "2026120", "1" * 52]
EXTREME_TIMES = [
    "000101010000",
    "999912312359",
    "000000000000",
    "202612099999",
    "99999999999999",
    "9" * 52,
]


def _generation(chat: Chat) -> str:
    assert chat.stored is not None
    return str(chat.stored["generation"])


async def _on_day_screen(chat: Chat) -> None:
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Maria")
    assert chat.screen == "day"


async def _on_time_screen(chat: Chat) -> None:
    await _on_day_screen(chat)
    await chat.tap_first(skip=2)
    assert chat.screen == "time"


async def _on_taken_screen(chat: Chat) -> None:
    await _on_day_screen(chat)
    await chat.tap_first()
    wanted = chat.reply.choices[0]
    [_, _, stamp_text] = wanted.id.split(".")
    from core.conversation.state import from_stamp

    start = from_stamp(stamp_text)
    assert start is not None
    chat.desk.take_elsewhere("manicure", start, "maria")
    await chat.send(Chosen(wanted.id))
    assert chat.screen == "taken"


async def _answered_as_stale(chat: Chat, choice_id: str) -> None:
    before = chat.reply
    screen = chat.screen
    reply = await chat.send(Chosen(choice_id))
    screen_text = before.text.removeprefix(STALE + "\n\n")
    assert reply.text == STALE + "\n\n" + screen_text
    assert chat.labels() == [c.label for c in before.choices]
    assert chat.screen == screen
    assert chat.mine(BookingStatus.HELD) == []


@pytest.mark.parametrize("arg", EXTREME_DAYS)
async def test_a_forged_day_is_answered_as_stale(arg: str) -> None:
    chat = Chat()
    await _on_day_screen(chat)
    await _answered_as_stale(chat, f"{_generation(chat)}.d.{arg}")


@pytest.mark.parametrize("suffix", ["0", "x", " ", "00"])
async def test_an_offered_day_with_anything_after_it_is_answered_as_stale(suffix: str) -> None:
    chat = Chat()
    await _on_day_screen(chat)
    offered = chat.reply.choices[0].id
    await _answered_as_stale(chat, offered + suffix)


@pytest.mark.parametrize("day", ["2_026120", "+2026120", "２０２６１２０３", "2026_12_"])
async def test_a_day_int_would_read_but_the_screen_never_writes_is_answered_as_stale(
    day: str,
) -> None:
    chat = Chat()
    await _on_day_screen(chat)
    await _answered_as_stale(chat, f"{_generation(chat)}.d.{day}")


async def test_a_day_the_screen_could_not_have_offered_is_answered_as_stale() -> None:
    chat = Chat()
    await _on_day_screen(chat)
    # 2026-12-06 is the day before the chat's "now"; a year ahead is past the horizon.
    for arg in ("20261206", "20271207"):
        await _answered_as_stale(chat, f"{_generation(chat)}.d.{arg}")


@pytest.mark.parametrize("arg", [*EXTREME_TIMES, "202612081000"])
async def test_a_forged_time_is_answered_as_stale(arg: str) -> None:
    chat = Chat()
    await _on_time_screen(chat)
    await _answered_as_stale(chat, f"{_generation(chat)}.t.{arg}")


@pytest.mark.parametrize("arg", [*(f"{t}.maria" for t in EXTREME_TIMES), "202612081000.maria"])
async def test_a_forged_alternative_is_answered_as_stale(arg: str) -> None:
    chat = Chat()
    await _on_taken_screen(chat)
    await _answered_as_stale(chat, f"{_generation(chat)}.a.{arg}")


@pytest.mark.parametrize("arg", ["0", "9" * 18, "99999999999999999999"])
async def test_a_forged_visit_or_page_is_answered_without_error(arg: str) -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("My bookings")
    reply = await chat.send(Chosen(f"{_generation(chat)}.v.{arg}"))
    assert reply.text  # "no longer active" or stale: an answer, never an error
    await chat.tap("Book a visit")
    reply = await chat.send(Chosen(f"{_generation(chat)}.p.{arg}"))
    assert chat.screen == "category"
    assert reply.choices


OPS = ["back", "p", "l", "c", "s", "m", "d", "t", "a", "ok", "quit", "v", "r", "x", "xy", "zz"]
ARGS = st.one_of(
    st.sampled_from([*EXTREME_DAYS, *EXTREME_TIMES, "", "*", "maria", "manicure", "nails"]),
    st.from_regex(r"[a-z0-9_*.-]{1,52}", fullmatch=True),
    st.integers(min_value=0).map(str).filter(lambda s: len(s) <= 52),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(["day", "time", "taken"]), op=st.sampled_from(OPS), arg=ARGS)
def test_any_current_choice_id_gets_an_answer_and_leaves_no_hold_behind(
    where: str, op: str, arg: str
) -> None:
    chat = Chat()

    async def run() -> None:
        await {"day": _on_day_screen, "time": _on_time_screen, "taken": _on_taken_screen}[where](
            chat
        )
        choice_id = f"{_generation(chat)}.{op}.{arg}"
        if len(choice_id) > 64:
            return
        reply = await chat.send(Chosen(choice_id))
        assert reply.text.strip()
        held = chat.mine(BookingStatus.HELD)
        assert chat.stored is not None
        if chat.stored["screen"] == "summary":
            assert [b.id for b in held] == [chat.stored["hold"]]
        else:
            assert held == []

    asyncio.run(run())


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_a_stored_state_on_a_day_at_the_ends_of_the_calendar_is_answered(day: str) -> None:
    chat = Chat()
    await chat.command("start")
    assert chat.stored is not None
    chat.stored = {**chat.stored, "screen": "time", "service": "manicure", "day": day}
    reply = await chat.say("hmm")
    assert "No free times are left on that day." in reply.text
    assert chat.labels() == ["↩ Other day"]
    await chat.tap("Other day")
    assert chat.screen == "day"


@pytest.mark.parametrize("cut", ["short", "long", "underscore"])
async def test_an_offered_time_of_11_or_13_digits_is_answered_as_stale(cut: str) -> None:
    chat = Chat()
    await _on_time_screen(chat)
    offered = chat.reply.choices[0].id
    head, stamp_text = offered.rsplit(".", 1)
    assert len(stamp_text) == 12
    forged = {
        # yyyymmddHMM: strptime would read one digit of hour ("0930" as "930")
        "short": stamp_text[:8] + stamp_text[9:] if stamp_text[8] == "0" else stamp_text[:11],
        "long": stamp_text + "0",
        "underscore": stamp_text[:4] + "_" + stamp_text[4:],
    }[cut]
    await _answered_as_stale(chat, f"{head}.{forged}")
