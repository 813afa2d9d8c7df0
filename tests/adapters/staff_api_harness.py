"""The staff API over the in-memory ports, through its real ASGI entry, in an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import time
from typing import Any

import httpx
from fastapi import FastAPI

from adapters.staff_api.app import mount_api
from adapters.staff_api.side import ApiSide
from core.calendar.ports import Role
from tests.adapters.staff_web_harness import (
    BERLIN,
    NOW,
    OWNER,
    PASSWORD,
    SERVICES,
    demo_bookings,
)
from tests.fakes.clock import FakeClock
from tests.fakes.staff_side import (
    FakeAccounts,
    FakeCalendar,
    FakeCustomers,
    FakeDesk,
    FakeStaff,
)

ANNA = "anna@salon.test"  # a staff member: Anna's column is hers to edit


@dataclass
class ApiDesk:
    client: httpx.AsyncClient
    accounts: FakeAccounts
    calendar: FakeCalendar
    desk: FakeDesk
    customers: FakeCustomers
    clock: FakeClock
    api: FastAPI

    async def token(self, email: str = OWNER, password: str = PASSWORD) -> str:
        answer = await self.client.post(
            "/api/v1/sessions", json={"email": email, "password": password}
        )
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["token"]
        return token

    async def as_user(self, email: str = OWNER) -> httpx.AsyncClient:
        """The client, signed in as ``email`` (its bearer token in every request)."""
        self.client.headers["Authorization"] = f"Bearer {await self.token(email)}"
        return self.client

    def booking(self, booking_id: int) -> Any:
        return next(
            (key, block)
            for key, blocks in self.calendar.bookings.items()
            for block in blocks
            if block.id == booking_id
        )


@asynccontextmanager
async def api_desk() -> AsyncIterator[ApiDesk]:
    clock = FakeClock(NOW)
    accounts = FakeAccounts(clock)
    accounts.add(OWNER, PASSWORD, Role.OWNER)
    accounts.add(ANNA, PASSWORD, Role.STAFF, "anna", language="ru")
    staff = (FakeStaff("anna", "Anna"), FakeStaff("maria", "Maria", time(10), time(20)))
    calendar = FakeCalendar(clock, BERLIN, staff)
    customers = FakeCustomers(calendar)
    desk = FakeDesk(clock, calendar, customers, SERVICES)
    demo_bookings(calendar, customers)
    web = FastAPI()
    api = mount_api(web, ApiSide(accounts, calendar, desk, customers, clock))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        yield ApiDesk(client, accounts, calendar, desk, customers, clock, api)
