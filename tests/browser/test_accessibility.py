"""axe-core on the staff pages as a browser renders them: no serious or critical
violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.axe import blocking_violations, report
from tests.browser.browsing import sign_in
from tests.browser.demo_day import OWNER

pytestmark = pytest.mark.db


async def assert_accessible(page: Page) -> None:
    violations = await blocking_violations(page)
    assert not violations, f"{page.url}:\n{report(violations)}"


async def test_the_sign_in_page_and_its_refusal(page: Page) -> None:
    await page.goto("/staff/login")
    await assert_accessible(page)

    await sign_in(page, OWNER, "not the password")
    await expect(page.get_by_role("alert")).to_be_visible()
    await assert_accessible(page)


async def test_the_day_view(page: Page) -> None:
    await sign_in(page, OWNER)
    await expect(page.locator("article.booking").first).to_be_visible()
    await assert_accessible(page)


async def test_the_week_view(page: Page) -> None:
    await sign_in(page, OWNER)
    await page.goto("/staff/week/maria/2026-12-09")
    await expect(page.locator("article.booking").first).to_be_visible()
    await assert_accessible(page)


async def test_a_page_not_found(page: Page) -> None:
    await sign_in(page, OWNER)
    await page.goto("/staff/day/2026-13-01")
    await assert_accessible(page)


async def test_the_walk_in_form_with_its_free_times_and_a_refusal(page: Page) -> None:
    await sign_in(page, OWNER)
    await page.goto("/staff/new?service=manicure&staff=maria&day=2026-12-09")
    await expect(page.get_by_label("Time")).to_be_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Book", exact=True).click()  # no name: refused
    await expect(page.get_by_role("alert")).to_be_visible()
    await assert_accessible(page)


async def test_a_booking_in_the_days_dialog_and_on_its_page(page: Page) -> None:
    await sign_in(page, OWNER)
    await page.locator("article.booking").filter(has_text="Ada Lovelace").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("button", name="Cancel the booking")).to_be_visible()
    await assert_accessible(page)

    await dialog.get_by_role("link", name="Open the booking's page").click()
    await expect(page.get_by_role("button", name="Move", exact=True)).to_be_visible()
    await assert_accessible(page)
