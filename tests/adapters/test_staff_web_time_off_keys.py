"""A time-off form posted for a staff key that is no staff member's, on the real desk and
Postgres: the not-found page, nothing reaching the database (a NUL in a key is a query
error there, which was a 500)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from core.calendar.ports import Role
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.db_state import rows

EMAIL = "owner@salon.test"
PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM = {"from_day": "2026-12-09", "from_at": "12:00", "to_day": "2026-12-09", "to_at": "13:00"}


@pytest.fixture
async def client(app: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    await app.accounts.add(EMAIL, PASSWORD, Role.OWNER)
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        found = CSRF.search((await client.get("/staff/login")).text)
        assert found is not None
        signed = await client.post(
            "/staff/login", data={"email": EMAIL, "password": PASSWORD, "csrf": found.group(1)}
        )
        assert signed.status_code == 303
        yield client


@pytest.mark.parametrize("key", ["%00", "anna%00", "nobody", "x" * 101])
async def test_time_off_for_a_key_that_is_no_staff_member_is_not_found(
    app: Salonbot, client: httpx.AsyncClient, key: str
) -> None:
    found = CSRF.search((await client.get("/staff/")).text)
    assert found is not None
    token = found.group(1)
    for path, data in (
        (f"/staff/time-off/{key}/2026-12-09", FORM),
        (f"/staff/time-off/{key}/2026-12-09/remove", {"id": "1"}),
    ):
        answer = await client.post(path, data={**data, "csrf": token})
        assert answer.status_code == 404, (path, answer.text[:200])
        assert "Page not found" in answer.text
    assert await rows(app.engine, "SELECT id FROM time_off") == []
