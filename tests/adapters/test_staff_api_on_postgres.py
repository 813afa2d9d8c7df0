"""The staff API as ``salonbot serve`` wires it: the real accounts, calendar and front desk
over the demo salon on Postgres, through the app's own routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.calendar.ports import Role
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app

OWNER = "owner@salon.test"
MARIA = "maria@salon.test"
PASSWORD = "a long enough password"
WEDNESDAY = "2026-12-09"  # two days after the ``app`` fixture's clock; Olga works


@pytest.fixture
async def client(app: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    await app.accounts.add(OWNER, PASSWORD, Role.OWNER)
    await app.accounts.add(MARIA, PASSWORD, Role.STAFF, staff_key="maria")
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        yield client


async def _bearer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    answer = await client.post("/api/v1/sessions", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_a_walk_in_booked_through_the_api_is_on_the_day_with_the_users_email(
    client: httpx.AsyncClient,
) -> None:
    owner = await _bearer(client, OWNER)
    free = await client.get(
        "/api/v1/availability",
        params={"service": "manicure", "staff": "olga", "date": WEDNESDAY},
        headers=owner,
    )
    assert free.status_code == 200, free.text
    start = free.json()["starts"][0]["start"]
    made = await client.post(
        "/api/v1/bookings",
        json={
            "service": "manicure",
            "staff": "olga",
            "start": start,
            "customer": {"name": "Ida Berg", "phone": "+49 170 555"},
        },
        headers=owner,
    )
    assert made.status_code == 201, made.text
    detail = made.json()
    assert detail["booking"]["status"] == "confirmed"
    assert detail["customer"]["name"] == "Ida Berg"
    assert [(h["actor"]) for h in detail["history"]] == [OWNER]

    again = await client.post(
        "/api/v1/bookings",
        json={"service": "manicure", "staff": "olga", "start": start, "customer": 1},
        headers=owner,
    )
    assert again.status_code == 409
    assert again.json()["error"] == "slot_taken"
    assert again.json()["alternatives"]

    day = await client.get("/api/v1/bookings", params={"date": WEDNESDAY}, headers=owner)
    olga = next(c for c in day.json()["columns"] if c["staff"] == "olga")
    assert [(b["start"], b["customer_name"]) for b in olga["bookings"]] == [(start, "Ida Berg")]
    found = await client.get("/api/v1/customers", params={"q": "ida"}, headers=owner)
    assert [c["name"] for c in found.json()] == ["Ida Berg"]


async def test_a_staff_member_cannot_cancel_a_colleagues_booking_through_the_api(
    client: httpx.AsyncClient,
) -> None:
    owner, maria = await _bearer(client, OWNER), await _bearer(client, MARIA)
    free = await client.get(
        "/api/v1/availability",
        params={"service": "manicure", "staff": "olga", "date": WEDNESDAY},
        headers=owner,
    )
    start = free.json()["starts"][0]["start"]
    made = await client.post(
        "/api/v1/bookings",
        json={"service": "manicure", "staff": "olga", "start": start, "customer": {"name": "Ida"}},
        headers=owner,
    )
    booking = made.json()["booking"]["id"]
    refused = await client.post(
        f"/api/v1/bookings/{booking}/cancel", json={"reason": "mine now"}, headers=maria
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "not_allowed"
    after = await client.get(f"/api/v1/bookings/{booking}", headers=maria)
    assert after.json()["booking"]["status"] == "confirmed"
    assert len(after.json()["history"]) == 1
