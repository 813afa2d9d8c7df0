"""A walk-in form books once, however often it is sent: over the in-memory desk and over
the real one on Postgres (``salonbot serve``'s wiring), through the staff app's routes.

Each form drawn carries a fresh request key; sent again (a double click, a resend, Back
then Book) it lands on the booking it made (303, the same page), and nothing more is
booked. A refusal keeps the key; a key that booked something else is refused and replaced.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from core.calendar.ports import Role
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.adapters.staff_web_harness import StaffDesk, staff_desk
from tests.db_state import rows

REQUEST = re.compile(r'<input type="hidden" name="request" value="([^"]*)">')
FORM = "/staff/new?service=manicure&day=2026-12-09"


def _request_key(page: httpx.Response) -> str:
    keys = REQUEST.findall(page.text)
    assert len(keys) == 1, page.text
    return keys[0]


def _alert(page: httpx.Response) -> str:
    found = re.search(r'role="alert">\s*<p>([^<]*)</p>', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


async def _signed(desk: StaffDesk) -> str:
    assert (await desk.sign_in()).status_code == 303
    return await desk.form_token("/staff/")


def _bookings(desk: StaffDesk) -> int:
    return sum(len(blocks) for blocks in desk.calendar.bookings.values())


# Over the in-memory desk.


async def test_every_form_drawn_carries_a_fresh_request_key() -> None:
    async with staff_desk() as desk:
        await _signed(desk)
        first = _request_key(await desk.client.get(FORM))
        second = _request_key(await desk.client.get(FORM))
        assert first != second
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", first)


async def test_a_walk_in_form_sent_twice_books_once_and_both_answers_lead_to_it() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        key = _request_key(await desk.client.get(FORM))
        form = {"csrf": token, "service": "manicure", "staff": "", "day": "2026-12-09",
                "at": "12:00", "customer": "new", "name": "Eve Adams", "phone": "",
                "request": key}  # fmt: skip

        first = await desk.client.post("/staff/new", data=form)
        again = await desk.client.post("/staff/new", data=form)

        assert (first.status_code, again.status_code) == (303, 303)
        assert first.headers["location"] == again.headers["location"]
        assert first.headers["location"] == "/staff/booking/3?done=booked"
        assert _bookings(desk) == 3
        assert len(desk.customers.cards) == 3
        assert [line.action for line in desk.desk.history[3]] == ["booked"]


async def test_a_refused_form_keeps_its_key_so_the_corrected_one_is_still_one_request() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        key = _request_key(await desk.client.get(FORM))
        form = {"csrf": token, "service": "manicure", "staff": "anna", "day": "2026-12-08",
                "at": "10:30", "customer": "new", "name": "Eve Adams", "phone": "",
                "request": key}  # fmt: skip

        taken = await desk.client.post("/staff/new", data=form)
        assert taken.status_code == 409
        assert _request_key(taken) == key
        slot = re.findall(r'name="slot" value="([^"]+)"', taken.text)[0]
        picked = await desk.client.post("/staff/new", data={**form, "slot": slot})
        picked_again = await desk.client.post("/staff/new", data={**form, "slot": slot})

        assert (picked.status_code, picked_again.status_code) == (303, 303)
        assert picked.headers["location"] == picked_again.headers["location"]
        assert _bookings(desk) == 3


async def test_a_used_form_sent_for_another_customer_is_refused_and_gets_a_fresh_key() -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        key = _request_key(await desk.client.get(FORM))
        form = {"csrf": token, "service": "manicure", "staff": "", "day": "2026-12-09",
                "at": "12:00", "customer": "new", "name": "Eve Adams", "phone": "",
                "request": key}  # fmt: skip
        assert (await desk.client.post("/staff/new", data=form)).status_code == 303

        # Back, another name typed over the first, Book.
        changed = await desk.client.post("/staff/new", data={**form, "name": "Finn Berg"})

        assert changed.status_code == 409
        assert _alert(changed) == (
            "This form has already made booking #3. To book what it says now as well, "
            "press Book again."
        )
        assert _bookings(desk) == 3
        fresh = _request_key(changed)
        assert fresh != key
        assert 'value="Finn Berg"' in changed.text
        # Pressed again, the form as it is now is a booking of its own.
        again = await desk.client.post(
            "/staff/new", data={**form, "name": "Finn Berg", "at": "14:00", "request": fresh}
        )
        assert again.headers["location"] == "/staff/booking/4?done=booked"


@pytest.mark.parametrize(
    "key", ["short", "x" * 65, "<script>alert(1)</script>-abcdef", "ключ-ключ-ключ-ключ"]
)
async def test_a_forged_request_key_is_refused_books_nothing_and_is_replaced(key: str) -> None:
    async with staff_desk() as desk:
        token = await _signed(desk)
        form = {"csrf": token, "service": "manicure", "staff": "", "day": "2026-12-09",
                "at": "12:00", "customer": "new", "name": "Eve Adams", "phone": "",
                "request": key}  # fmt: skip

        answer = await desk.client.post("/staff/new", data=form)

        assert answer.status_code == 422
        assert _alert(answer) == "This form could not be read. Reload the page and try again."
        assert _bookings(desk) == 2
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", _request_key(answer))
        assert "<script>alert(1)" not in answer.text


# Over the real desk on Postgres.


@pytest.fixture
async def client(app: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    await app.accounts.add("owner@salon.test", "a long enough password", Role.OWNER)
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        login = await client.get("/staff/login")
        found = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert found is not None
        signed = await client.post(
            "/staff/login",
            data={"email": "owner@salon.test", "password": "a long enough password",
                  "csrf": found.group(1)},
        )  # fmt: skip
        assert signed.status_code == 303
        yield client


async def _drawn_form(client: httpx.AsyncClient) -> dict[str, str]:
    # Wednesday 2026-12-09, 11:00 in Berlin: Maria and Olga both do manicures then.
    page = await client.get("/staff/new?service=manicure&day=2026-12-09")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    return {"csrf": csrf.group(1), "service": "manicure", "staff": "", "day": "2026-12-09",
            "at": "11:00", "customer": "new", "name": "Eve Adams", "phone": "",
            "request": _request_key(page)}  # fmt: skip


async def test_on_postgres_a_form_sent_twice_with_anyone_free_books_one_visit(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    form = await _drawn_form(client)

    first = await client.post("/staff/new", data=form)
    again = await client.post("/staff/new", data=form)

    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(1,)]
    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(1,)]


@pytest.mark.race
async def test_on_postgres_a_form_sent_twice_at_once_books_one_visit(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    form = await _drawn_form(client)

    answers = await asyncio.gather(*(client.post("/staff/new", data=form) for _ in range(2)))

    assert [a.status_code for a in answers] == [303, 303]
    assert len({a.headers["location"] for a in answers}) == 1
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(1,)]
    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(1,)]


async def test_on_postgres_two_forms_drawn_for_one_time_book_two_visits(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    # Two walk-ins really: each form drawn has its own key ("anyone free" takes both).
    first = await client.post("/staff/new", data=await _drawn_form(client))
    second = await client.post("/staff/new", data=await _drawn_form(client))

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] != second.headers["location"]
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(2,)]
