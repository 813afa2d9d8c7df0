"""The staff web over the in-memory ports, through its real ASGI entry, in an httpx client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from adapters.staff_web.app import mount_staff
from adapters.staff_web.side import StaffSide
from core.calendar.linked import CalendarAlertLine
from core.calendar.ports import Role
from core.calendar.views import BookingBlock
from core.domain.booking import BookingStatus
from tests.fakes.clock import FakeClock
from tests.fakes.linked_desk import FakeLinkedDesk
from tests.fakes.live_and_feeds import FakeLiveChanges, FakeStaffFeeds
from tests.fakes.staff_side import (
    FakeAccounts,
    FakeCalendar,
    FakeCustomers,
    FakeDesk,
    FakeService,
    FakeStaff,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)  # Tuesday 10:30 in Berlin
TODAY = date(2026, 12, 8)
OWNER = "owner@salon.test"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class StaffDesk:
    client: httpx.AsyncClient
    accounts: FakeAccounts
    calendar: FakeCalendar
    clock: FakeClock
    staff_app: FastAPI
    desk: FakeDesk
    customers: FakeCustomers
    live: FakeLiveChanges
    feeds: FakeStaffFeeds
    linked: FakeLinkedDesk

    async def form_token(self, path: str = "/staff/login") -> str:
        page = await self.client.get(path)
        found = CSRF.search(page.text)
        assert found is not None, page.text
        return found.group(1)

    async def sign_in(self, email: str = OWNER, password: str = PASSWORD) -> httpx.Response:
        token = await self.form_token()
        return await self.client.post(
            "/staff/login", data={"email": email, "password": password, "csrf": token}
        )


SERVICES = (
    FakeService("manicure", "Classic manicure", 60),
    FakeService("haircut", "Haircut", 45),
)


def demo_bookings(calendar: FakeCalendar, customers: FakeCustomers | None = None) -> None:
    """Anna's manicure at 10:00 from Telegram, Maria's walk-in haircut at 14:30 (held);
    their customers in ``customers``."""
    if customers is not None:
        olga = customers.add("Olga Petrova", "+49 151 000000", "telegram", "ru")
        jonas = customers.add("Jonas Weber", "+49 160 111111")
        customers.owner_of.update({1: olga, 2: jonas})
    calendar.book(
        "anna",
        BookingBlock(
            1, 1, datetime(2026, 12, 8, 9, 0, tzinfo=UTC), datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
            "manicure", "Classic manicure", "Olga Petrova", "+49 151 000000",
            "telegram", BookingStatus.CONFIRMED, customer_confirmed=True,
        ),
    )  # fmt: skip
    calendar.book(
        "maria",
        BookingBlock(
            2, 3, datetime(2026, 12, 8, 13, 30, tzinfo=UTC),
            datetime(2026, 12, 8, 14, 15, tzinfo=UTC),
            "haircut", "Haircut", "Jonas Weber", "+49 160 111111", "", BookingStatus.HELD,
        ),
    )  # fmt: skip


@asynccontextmanager
async def staff_desk(
    *,
    https: bool = False,
    base_url: str = "http://salon.test",
    public_url: str | None = None,
    menu: bool = True,
) -> AsyncIterator[StaffDesk]:
    clock = FakeClock(NOW)
    accounts = FakeAccounts(clock)
    accounts.add(OWNER, PASSWORD, Role.OWNER)
    accounts.add("anna@salon.test", PASSWORD, Role.STAFF, "anna", language="ru")
    staff = (FakeStaff("anna", "Anna"), FakeStaff("maria", "Maria", time(10), time(20)))
    calendar = FakeCalendar(clock, BERLIN, staff)
    customers = FakeCustomers(calendar)
    desk = FakeDesk(clock, calendar, customers, SERVICES)
    demo_bookings(calendar, customers)

    async def today() -> date:
        return clock.now().astimezone(BERLIN).date()

    async def services(language: str) -> list[tuple[str, str]]:
        return [(s.key, s.name) for s in SERVICES]

    live = FakeLiveChanges()
    feeds = FakeStaffFeeds({m.key: m.name for m in staff})
    # Anna's calendar has an event over her manicure at 10:00 (alert 1).
    linked = FakeLinkedDesk()
    linked.add_alert(CalendarAlertLine(1, "anna", "Anna", "conflict", 1, NOW, "", NOW))
    web = FastAPI()
    side = StaffSide(
        accounts,
        calendar,
        today,
        desk,
        customers,
        https=https,
        live=live,
        feeds=feeds,
        public_url=public_url,
        linked=linked,
    )
    side.menu = services if menu else None
    staff_app = mount_staff(web, side)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield StaffDesk(
            client, accounts, calendar, clock, staff_app, desk, customers, live, feeds, linked
        )
