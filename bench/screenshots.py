"""The README's pictures of the staff web: ``docs/staff-day.png`` (the demo salon's
Wednesday) and ``docs/staff-week.png`` (Maria's week), rendered by Debian's chromium.

    uv run python -m bench.screenshots

A throwaway database (the embedded Postgres, or a new one on ``BENCH_DATABASE_URL``'s
server), the demo salon, the tests' week of bookings (``tests/browser/demo_day.py``), a
customer still choosing in chat (a hold), Olga's afternoon off; the clock stopped at
Wednesday 9 December 2026, 12:10 in Berlin, so the pictures come out the same every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import asyncpg
from playwright.async_api import Page, ViewportSize, async_playwright
from tests.browser.browsing import launch, sign_in
from tests.browser.demo_day import (
    BERLIN,
    OWNER,
    WEDNESDAY,
    Visit,
    add_accounts,
    add_customer,
    book_the_week,
)
from tests.browser.live_server import serving
from tests.fakes.clock import FakeClock

from core.catalog.file import load_catalog_text
from core.domain.booking import Actor
from core.domain.timeline import Interval
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine, start_embedded, with_database
from salonbot.demo import demo_catalog_text
from salonbot.migrate import upgrade_in_thread
from salonbot.web import create_web_app

DOCS = Path(__file__).resolve().parents[1] / "docs"
NOW = datetime(2026, 12, 9, 11, 10, tzinfo=UTC)  # Wednesday 12:10 in Berlin
SIZE: ViewportSize = {"width": 1280, "height": 880}


@contextlib.asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    """A new database, migrated to head, dropped afterwards."""
    server_url = os.environ.get("BENCH_DATABASE_URL")
    location = None
    if not server_url:
        location = start_embedded(Path(tempfile.mkdtemp(prefix="salonbot-shots-")))
        server_url = with_database(location.url, "postgres")
    name = f"salonbot_shots_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server_url, name)
        await upgrade_in_thread(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if location is not None:
            location.server.cleanup()


async def demo_salon(app: Salonbot, clock: FakeClock) -> None:
    document, _ = load_catalog_text(demo_catalog_text())
    await load_catalog(app.uow, clock, document)
    await book_the_week(app, clock, NOW)
    await add_accounts(app)
    # A customer choosing in Telegram right now: Olga's slot held for them.
    choosing = Visit(
        "Oskar Lindqvist", "telegram", "womens-haircut", "olga", WEDNESDAY, time(15, 30)
    )
    customer_id = await add_customer(app, choosing, 99)
    await app.bookings.hold(
        choosing.service,
        choosing.start,
        Actor.customer(customer_id),
        staff_key="olga",
        customer_id=customer_id,
    )
    afternoon = Interval(
        datetime.combine(WEDNESDAY, time(17, 30), BERLIN),
        datetime.combine(WEDNESDAY, time(20), BERLIN),
    )
    await app.add_time_off("olga", afternoon, Actor.staff("owner"), "Dentist")


async def shoot(page: Page, path: str, picture: Path) -> None:
    await page.goto(path)
    await page.locator("article.booking").first.wait_for()
    await page.screenshot(path=picture, full_page=True)
    print(f"wrote {picture}")


async def main() -> None:
    clock = FakeClock(NOW)
    async with throwaway_database() as url:
        app = Salonbot(make_engine(url), clock)
        try:
            await demo_salon(app, clock)
            async with (
                serving(create_web_app(app, [], lambda: True)) as base,
                async_playwright() as pw,
            ):
                browser = await launch(pw)
                context = await browser.new_context(
                    base_url=base, locale="en-GB", viewport=SIZE, device_scale_factor=1
                )
                page = await context.new_page()
                await sign_in(page, OWNER)
                await page.wait_for_url("**/staff/")
                await shoot(page, "/staff/day/2026-12-09", DOCS / "staff-day.png")
                await shoot(page, "/staff/week/maria/2026-12-09", DOCS / "staff-week.png")
                await browser.close()
        finally:
            await app.close()


if __name__ == "__main__":
    asyncio.run(main())
