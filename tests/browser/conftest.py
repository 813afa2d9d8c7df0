"""The staff web in a real browser: Debian's chromium driven by Playwright, against the app
``salonbot serve`` builds, served by uvicorn on a loopback port, over the test Postgres with
the demo salon's week booked.

One browser for the session (starting one costs about half a second); a fresh context (its
own cookies) for every test. Chromium missing is a failure, not a skip: CI installs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.demo import demo_catalog_text
from salonbot.passwords import Argon2Passwords
from salonbot.web import create_web_app
from tests.browser.browsing import chromium_missing, launch
from tests.browser.demo_day import MORNING, add_accounts, book_the_week
from tests.browser.live_server import serving
from tests.fakes.clock import FakeClock

# A browser far from the salon: the pages must show the salon's times, not the browser's.
BROWSER_ZONE = "America/New_York"
TIMEOUT_MS = 5_000


@dataclass
class Salon:
    """The served salon: its base URL, the use cases and clock behind it."""

    url: str
    app: Salonbot
    clock: FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """The tests' now: Wednesday 9 December 2026, 07:00 in Berlin (overrides the shared one)."""
    return FakeClock(MORNING)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if missing := chromium_missing():
        pytest.fail(missing, pytrace=False)
    async with async_playwright() as playwright:
        launched = await launch(playwright)
        yield launched
        await launched.close()


@pytest.fixture
async def salon(clean_engine: AsyncEngine, clock: FakeClock) -> AsyncIterator[Salon]:
    # argon2 as in production but cheap: default costs took a second of every test's setup.
    app = Salonbot(clean_engine, clock, passwords=Argon2Passwords(time_cost=1, memory_cost=1024))
    document, _ = load_catalog_text(demo_catalog_text())
    await load_catalog(app.uow, clock, document)
    await book_the_week(app, clock, MORNING)
    await add_accounts(app)
    web = create_web_app(app, [], lambda: True)
    try:
        async with serving(web, end_streams=app.live.stop) as url:
            yield Salon(url, app, clock)
    finally:
        await app.live.close()  # its listening connection; the engine is the session's


@pytest.fixture
async def context(browser: Browser, salon: Salon) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(
        base_url=salon.url,
        locale="en-GB",
        timezone_id=BROWSER_ZONE,
        viewport={"width": 1280, "height": 900},
    )
    fresh.set_default_timeout(TIMEOUT_MS)
    yield fresh
    await fresh.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
