"""``POST /api/v1/bookings`` with an ``Idempotency-Key``: a retry books nothing more and
answers the booking the key made (201 both times, the same booking); the key with another
walk-in is 409 ``request_key_reused``; a key out of bounds is 422 ``bad_input``. Over the
in-memory desk and over the real one on Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.calendar.ports import Role
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.adapters.staff_api_harness import api_desk
from tests.db_state import rows

KEY = "retry-0f-0ne-walk-in_42"
WALK_IN: dict[str, Any] = {
    "service": "haircut",
    "staff": "maria",
    "start": "2026-12-08T16:00:00+01:00",
    "customer": {"name": "Ida Berg", "phone": "+49 170 555"},
}


def _count(bookings: dict[str, list[Any]]) -> int:
    return sum(len(blocks) for blocks in bookings.values())


async def test_a_walk_in_sent_again_with_its_key_answers_the_same_booking_and_books_nothing() -> (
    None
):
    async with api_desk() as api:
        client = await api.as_user()
        headers = {"Idempotency-Key": KEY}

        first = await client.post("/api/v1/bookings", json=WALK_IN, headers=headers)
        again = await client.post("/api/v1/bookings", json=WALK_IN, headers=headers)

        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert _count(api.calendar.bookings) == 3


async def test_without_a_key_a_walk_in_sent_twice_is_two_requests() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        walk_in = {**WALK_IN, "staff": None}

        first = await client.post("/api/v1/bookings", json=walk_in)
        second = await client.post("/api/v1/bookings", json=walk_in)

        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["booking"]["id"] != second.json()["booking"]["id"]


async def test_a_key_sent_with_another_walk_in_is_refused_and_changes_nothing() -> None:
    async with api_desk() as api:
        client = await api.as_user()
        headers = {"Idempotency-Key": KEY}
        made = await client.post("/api/v1/bookings", json=WALK_IN, headers=headers)
        before = _count(api.calendar.bookings)

        other = {**WALK_IN, "start": "2026-12-08T17:00:00+01:00"}
        refused = await client.post("/api/v1/bookings", json=other, headers=headers)

        assert refused.status_code == 409
        body = refused.json()
        assert body["error"] == "request_key_reused"
        assert f"#{made.json()['booking']['id']}" in body["message"]
        assert _count(api.calendar.bookings) == before


@pytest.mark.parametrize(
    "key", ["too-short", "x" * 65, "with blanks in it 1234", "ключ-ключ-ключ-ключ", ""]
)
async def test_a_key_out_of_bounds_is_bad_input_and_books_nothing(key: str) -> None:
    async with api_desk() as api:
        client = await api.as_user()

        answer = await client.post(
            "/api/v1/bookings", json=WALK_IN, headers={b"Idempotency-Key": key.encode()}
        )

        assert answer.status_code == 422
        assert answer.json()["error"] == "bad_input"
        assert _count(api.calendar.bookings) == 2


async def test_the_description_documents_the_key_as_a_header_of_the_walk_in() -> None:
    async with api_desk() as api:
        schema = (await api.client.get("/api/v1/openapi.json")).json()
        walk_in = schema["paths"]["/bookings"]["post"]
        (header,) = [p for p in walk_in["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key"
        assert header["required"] is False
        assert "request_key_reused" in header["description"]
        assert "request_key_reused" in walk_in["responses"]["409"]["description"]


# Over the real desk on Postgres.


@pytest.fixture
async def owner(app: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    await app.accounts.add("owner@salon.test", "a long enough password", Role.OWNER)
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        session = await client.post(
            "/api/v1/sessions",
            json={"email": "owner@salon.test", "password": "a long enough password"},
        )
        assert session.status_code == 201, session.text
        client.headers["Authorization"] = f"Bearer {session.json()['token']}"
        yield client


# Wednesday 2026-12-09, 11:00 in Berlin, anyone free: Maria and Olga both are.
ON_POSTGRES = {
    "service": "manicure",
    "staff": None,
    "start": "2026-12-09T11:00:00+01:00",
    "customer": {"name": "Ida Berg", "phone": ""},
}


async def test_on_postgres_a_retry_with_the_key_answers_the_same_booking(
    app: Salonbot, owner: httpx.AsyncClient
) -> None:
    headers = {"Idempotency-Key": KEY}

    first = await owner.post("/api/v1/bookings", json=ON_POSTGRES, headers=headers)
    again = await owner.post("/api/v1/bookings", json=ON_POSTGRES, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["booking"]["id"] == first.json()["booking"]["id"]
    assert await rows(app.engine, "SELECT count(*), min(request_key) FROM bookings") == [(1, KEY)]


@pytest.mark.race
async def test_on_postgres_one_key_sent_at_once_books_once(
    app: Salonbot, owner: httpx.AsyncClient
) -> None:
    answers = await asyncio.gather(
        *(
            owner.post("/api/v1/bookings", json=ON_POSTGRES, headers={"Idempotency-Key": KEY})
            for _ in range(3)
        )
    )

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["booking"]["id"] for a in answers}) == 1
    assert await rows(app.engine, "SELECT count(*) FROM bookings") == [(1,)]
    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(1,)]
