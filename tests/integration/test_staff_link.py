"""Linking a staff member's chat: ``salonbot staff link`` prints a one-time code, the staff
member sends ``/link CODE`` to the bot; unlinking from the command line or from the chat."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.conversation.messages import Command, Text
from core.db.staff_chat_repository import StaffChatRepository
from core.services.staff_link import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_LIFETIME,
    StaffNotFound,
    code_digest,
)
from salonbot.bootstrap import Salonbot
from tests.cli_run import cli_environment, salonbot
from tests.db_state import State, dump_tables, rows
from tests.fakes.clock import FakeClock
from tests.staff_chats import link, say
from tests.waiting import waiting_for_a_lock

ROOT = Path(__file__).resolve().parents[2]
LINKED_EN = "Linked: this chat now gets Maria's booking notices and agenda."
REFUSED_EN = "That code is not valid"


async def _cli(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    # The command runs its own event loop (asyncio.run), so not on this one.
    env = cli_environment(database_url, tmp_path / "data")
    return await asyncio.to_thread(salonbot, env, *args)


def _printed_code(output: str) -> str:
    command = next(line for line in output.splitlines() if line.strip().startswith("/link "))
    return command.split()[1]


async def _without_outbox(engine: AsyncEngine) -> State:
    """Every table but the outbox (where the refusal itself is queued)."""
    state = await dump_tables(engine)
    del state["outbound_messages"]
    return state


async def test_salonbot_staff_link_prints_a_code_that_links_the_chat_that_sends_it(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    clock.set(datetime.now(UTC))  # the command line runs on the real clock

    code, out, err = await _cli(database_url, tmp_path, "staff", "link", "maria")

    assert (code, err) == (0, "")
    printed = _printed_code(out)
    assert len(printed) == CODE_LENGTH
    assert set(printed) <= set(CODE_ALPHABET)
    assert out.startswith(f"One-time code for Maria (maria): {printed}\n")
    reply = await say(app, "9001", Command("link", printed.lower()), language="ru")
    assert reply.text.startswith("Готово: в этот чат теперь приходят уведомления")
    assert await rows(app.engine, "SELECT channel, chat_id, language FROM staff_chats") == [
        ("telegram", "9001", "ru")
    ]
    assert await rows(app.engine, "SELECT count(*) FROM staff_link_codes") == [(0,)]


async def test_the_code_is_kept_only_as_its_sha256_and_expires_after_a_day(
    app: Salonbot, clock: FakeClock
) -> None:
    issued = await app.staff_links.issue_code("maria")

    stored = await rows(app.engine, "SELECT code_digest, expires_at FROM staff_link_codes")
    assert stored == [
        (hashlib.sha256(issued.code.encode()).hexdigest(), clock.now() + CODE_LIFETIME)
    ]
    assert issued.code not in repr(await dump_tables(app.engine))


async def test_a_telegram_deep_link_start_carries_the_code_too(app: Salonbot) -> None:
    issued = await app.staff_links.issue_code("maria")

    reply = await say(app, "9001", Command("start", f"link-{issued.code}"))

    assert reply.text.startswith(LINKED_EN)
    assert await rows(app.engine, "SELECT chat_id FROM staff_chats") == [("9001",)]


async def test_a_code_links_once_and_a_second_use_from_another_chat_is_refused(
    app: Salonbot,
) -> None:
    issued = await app.staff_links.issue_code("maria")
    assert (await say(app, "9001", Command("link", issued.code))).text.startswith(LINKED_EN)
    before = await _without_outbox(app.engine)

    reply = await say(app, "9002", Command("link", issued.code))

    assert reply.text.startswith(REFUSED_EN)
    assert await _without_outbox(app.engine) == before


async def test_an_expired_code_is_refused_and_nothing_is_changed(
    app: Salonbot, clock: FakeClock
) -> None:
    issued = await app.staff_links.issue_code("maria")
    clock.advance(CODE_LIFETIME)
    before = await _without_outbox(app.engine)

    reply = await say(app, "9001", Command("link", issued.code))

    assert reply.text.startswith(REFUSED_EN)
    assert await _without_outbox(app.engine) == before


@pytest.mark.parametrize(
    "typed",
    ["ABCDEFGH", "short", "ABCD-EFG0", "x" * 5000, "/link", "ЖЖЖЖЖЖЖЖ"],
    ids=[
        "never issued",
        "too short",
        "letters not in the alphabet",
        "huge",
        "a command",
        "cyrillic",
    ],
)
async def test_a_wrong_code_is_refused_and_nothing_is_changed(app: Salonbot, typed: str) -> None:
    await app.staff_links.issue_code("maria")
    before = await _without_outbox(app.engine)

    reply = await say(app, "9001", Command("link", typed))

    assert reply.text.startswith(REFUSED_EN)
    assert await _without_outbox(app.engine) == before


async def test_link_without_a_code_says_how_to_send_it(app: Salonbot) -> None:
    reply = await say(app, "9001", Command("link"))

    assert reply.text == "Send the code from the salon's owner with the command: /link CODE"
    assert await rows(app.engine, "SELECT count(*) FROM staff_chats") == [(0,)]


async def test_a_new_code_replaces_the_older_one(app: Salonbot) -> None:
    older = await app.staff_links.issue_code("maria")
    newer = await app.staff_links.issue_code("maria")

    refused = await say(app, "9001", Command("link", older.code))
    linked = await say(app, "9001", Command("link", newer.code))

    assert refused.text.startswith(REFUSED_EN)
    assert linked.text.startswith(LINKED_EN)


async def test_two_codes_issued_at_once_for_one_staff_member_leave_one_that_works(
    app: Salonbot,
) -> None:
    # One `salonbot staff link maria` has written its code and not committed yet...
    async with app.engine.connect() as first:
        repository = StaffChatRepository(first)
        member = await repository.member("maria")
        assert member is not None
        now = app.clock.now()
        await repository.replace_code(member.id, code_digest("FIRSTONE"), now + CODE_LIFETIME, now)
        # ...when a second one runs: it waits for the first, then replaces its code.
        second = asyncio.create_task(app.staff_links.issue_code("maria"))
        await waiting_for_a_lock(app.engine, within=5)
        await first.commit()
        issued = await second

    assert await rows(app.engine, "SELECT code_digest FROM staff_link_codes") == [
        (code_digest(issued.code),)
    ]


async def test_linking_makes_no_customer_and_no_conversation(app: Salonbot) -> None:
    await link(app, "maria", "9001")

    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(0,)]
    assert await rows(app.engine, "SELECT count(*) FROM conversations") == [(0,)]


async def test_a_chat_is_linked_in_the_language_its_customer_chose(app: Salonbot) -> None:
    await say(app, "9001", Text("hello"), language="en")
    async with app.uow() as uow:
        await uow.connection.exec_driver_sql("UPDATE customers SET language = 'ru'")
        await uow.commit()

    reply = await link(app, "maria", "9001", language="en")

    assert reply.text.startswith("Готово")
    assert await rows(app.engine, "SELECT language FROM staff_chats") == [("ru",)]


async def test_unlink_from_the_chat_stops_its_notices_and_commands(app: Salonbot) -> None:
    await link(app, "maria", "9001")

    unlinked = await say(app, "9001", Command("unlink"))
    today = await say(app, "9001", Command("today"))

    assert unlinked.text == "Unlinked: this chat gets no more staff notices."
    assert today.text == "That command is for the salon's staff."
    assert await rows(app.engine, "SELECT count(*) FROM staff_chats") == [(0,)]


async def test_salonbot_staff_unlink_removes_every_chat_of_that_staff_member_only(
    app: Salonbot, database_url: str, tmp_path: Path
) -> None:
    await link(app, "maria", "9001")
    await link(app, "maria", "9002")
    await link(app, "anna", "9003")

    code, out, err = await _cli(database_url, tmp_path, "staff", "unlink", "maria")

    assert (code, out, err) == (0, "unlinked Maria (maria): 2 chats\n", "")
    assert await rows(app.engine, "SELECT chat_id FROM staff_chats") == [("9003",)]


async def test_salonbot_staff_list_shows_who_is_linked_with_chat_ids_cut(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await link(app, "maria", "123456789", language="ru")

    code, out, err = await _cli(database_url, tmp_path, "staff", "list")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Anna (anna): not linked",
        "Maria (maria): telegram …6789 (ru, since 2026-12-07 06:00 UTC)",
        "Olga (olga): not linked",
    ]
    assert "123456789" not in out


@pytest.mark.parametrize("command", ["link", "unlink"])
async def test_an_unknown_staff_id_is_a_one_line_error_and_exit_1(
    app: Salonbot, database_url: str, tmp_path: Path, command: str
) -> None:
    before = await dump_tables(app.engine)

    code, out, err = await _cli(database_url, tmp_path, "staff", command, "nobody")

    assert (code, out) == (1, "")
    assert err == (
        "salonbot: no staff member 'nobody' in the catalog (see `salonbot staff list`)\n"
    )
    assert await dump_tables(app.engine) == before


async def test_a_staff_member_the_catalog_dropped_gets_no_new_code(app: Salonbot) -> None:
    async with app.uow() as uow:
        await uow.connection.exec_driver_sql("UPDATE staff SET active = false WHERE key = 'olga'")
        await uow.commit()

    with pytest.raises(StaffNotFound):
        await app.staff_links.issue_code("olga")


async def test_two_chats_racing_with_one_code_link_only_one(app: Salonbot) -> None:
    issued = await app.staff_links.issue_code("maria")

    replies = await asyncio.gather(
        say(app, "9001", Command("link", issued.code)),
        say(app, "9002", Command("link", issued.code)),
    )

    assert sorted(r.text.startswith(LINKED_EN) for r in replies) == [False, True]
    assert await rows(app.engine, "SELECT count(*) FROM staff_chats") == [(1,)]


def test_codes_do_not_repeat_in_practice() -> None:
    from core.services.staff_link import new_code

    assert len({new_code() for _ in range(1000)}) == 1000
    assert timedelta(hours=1) < CODE_LIFETIME <= timedelta(days=1)
