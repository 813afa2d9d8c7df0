"""Signing in and reading the calendar in a real browser: the day of the whole salon, its
dates, a staff member's week; times in the salon's zone whatever the browser's."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.browsing import sign_in
from tests.browser.demo_day import ANNA, OWNER

pytestmark = pytest.mark.db


def column(page: Page, name: str) -> Locator:
    """A column of the calendar by its label: a staff member's name, or a day's."""
    return page.locator("section.column").filter(has=page.get_by_role("heading", name=name))


def booking(page: Page, customer: str) -> Locator:
    return page.locator("article.booking").filter(has_text=customer)


async def offset_top(element: Locator) -> float:
    """Where ``element`` sits in its column's rows (CSS pixels from their top)."""
    return float(await element.evaluate("e => e.offsetTop"))


async def test_an_owner_signs_in_and_sees_the_salons_day(page: Page) -> None:
    await sign_in(page, OWNER)

    await expect(page).to_have_url(re.compile(r"/staff/$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday, 9 December 2026")
    heads = page.locator("section.column h2")
    await expect(heads).to_have_text(["Anna", "Maria", "Olga"])
    await expect(page.locator("header .who")).to_have_text(OWNER)

    # Booked at 09:00, 10:00 and 11:30 UTC: shown at the salon's (Berlin) time, though the
    # browser thinks it is in New York.
    expected = (
        ("Maria", "Ada Lovelace", "10:00–11:00", "Manicure", "Telegram"),
        ("Anna", "Ben Walker", "11:00–12:00", "Women's haircut", "Walk-in or phone"),
        ("Olga", "Chloé Martin", "12:30–13:30", "Lash lift", "WhatsApp"),
        ("Anna", "Dmitri Ivanov", "15:00–17:30", "Colouring", "Telegram"),
    )
    for staff, customer, hours, service, channel in expected:
        block = column(page, staff).locator("article.booking").filter(has_text=customer)
        await expect(block).to_have_count(1)
        await expect(block.locator(".when")).to_have_text(hours)
        await expect(block.locator(".service")).to_have_text(service)
        await expect(block.locator(".channel")).to_have_text(channel)
        await expect(block.locator(".status")).to_have_text("Confirmed")


async def test_a_booking_sits_on_the_grid_at_its_time(page: Page) -> None:
    """The layout itself, which only a browser computes: a booking's block starts on its
    hour's line and is as tall as its visit."""
    await sign_in(page, OWNER)
    ada = booking(page, "Ada Lovelace")  # 10:00-11:00
    ten = page.locator(".axis .mark").filter(has_text="10:00")
    eleven = page.locator(".axis .mark").filter(has_text="11:00")

    row_ten, row_eleven = await offset_top(ten), await offset_top(eleven)
    assert row_eleven > row_ten
    assert abs(await offset_top(ada) - row_ten) <= 2  # its 1px margin
    box = await ada.bounding_box()
    assert box is not None
    assert abs(box["height"] - (row_eleven - row_ten)) <= 3
    assert await ada.is_visible()


async def test_a_wrong_password_is_refused_and_nothing_opens(page: Page) -> None:
    await sign_in(page, OWNER, "not the password")

    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(page).to_have_url(re.compile(r"/staff/login$"))
    await page.goto("/staff/")
    await expect(page).to_have_url(re.compile(r"/staff/login$"))
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()


async def test_the_dates_move_by_a_day_and_back_to_today(page: Page) -> None:
    await sign_in(page, OWNER)
    title = page.get_by_role("heading", level=1)

    await page.get_by_role("link", name="Next day").click()
    await expect(title).to_have_text("Thursday, 10 December 2026")
    await expect(page).to_have_url(re.compile(r"/staff/day/2026-12-10$"))
    await expect(column(page, "Anna").locator("article.booking")).to_have_text(
        [re.compile("Nina Hoffmann")]
    )

    # The day swaps in place (staff.js): each click on the day it shows.
    await page.get_by_role("link", name="Previous day").click()
    await expect(title).to_have_text("Wednesday, 9 December 2026")
    await page.get_by_role("link", name="Previous day").click()
    await expect(title).to_have_text("Tuesday, 8 December 2026")
    await expect(page).to_have_url(re.compile(r"/staff/day/2026-12-08$"))
    # Tuesday's visits ended before Wednesday morning: recorded as completed.
    for customer in ("Ida Roth", "Jana Wolf"):
        await expect(booking(page, customer).locator(".status")).to_have_text("Completed")

    await page.get_by_role("link", name="Today").click()
    await expect(title).to_have_text("Wednesday, 9 December 2026")


async def test_a_staff_members_week_from_the_day_view(page: Page) -> None:
    await sign_in(page, OWNER)

    await page.get_by_role("link", name="Maria").click()

    await expect(page).to_have_url(re.compile(r"/staff/week/maria/2026-12-09$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Maria: week of Mon 7 Dec")
    heads = page.locator("section.column h2")
    days = ["Mon 7 Dec", "Tue 8 Dec", "Wed 9 Dec", "Thu 10 Dec", "Fri 11 Dec", "Sat 12 Dec"]
    await expect(heads).to_have_text([*days, "Sun 13 Dec"])
    await expect(page.locator("section.column.today h2")).to_have_text("Wed 9 Dec")
    expected = {
        "Mon 7 Dec": ["Greta Braun", "Hanna Vogel"],
        "Tue 8 Dec": ["Ida Roth", "Jana Wolf"],
        "Wed 9 Dec": ["Ada Lovelace", "Eva Schmidt", "Farah Khan"],
        "Thu 10 Dec": [],
        "Fri 11 Dec": ["Karl Weber", "Lena Fischer"],
        "Sat 12 Dec": ["Mila Novak"],
        "Sun 13 Dec": [],
    }
    for day, customers in expected.items():
        await expect(column(page, day).locator("article.booking .customer")).to_have_text(customers)
    await expect(booking(page, "Greta Braun").locator(".when")).to_have_text("09:30–10:30")

    await page.get_by_role("link", name="Next week").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Maria: week of Mon 14 Dec")
    await expect(page.locator("article.booking")).to_have_count(0)
    await page.get_by_role("link", name="Whole salon").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday, 9 December 2026")


async def test_a_staff_user_sees_the_whole_salon_too(page: Page) -> None:
    await sign_in(page, ANNA)

    await expect(page.locator("header .who")).to_have_text(ANNA)
    await expect(page.locator("section.column h2")).to_have_text(["Anna", "Maria", "Olga"])
    await expect(booking(page, "Ada Lovelace")).to_be_visible()


async def test_signing_out_closes_the_calendar(page: Page) -> None:
    await sign_in(page, OWNER)

    await page.get_by_role("button", name="Sign out").click()

    await expect(page).to_have_url(re.compile(r"/staff/login$"))
    await page.goto("/staff/day/2026-12-09")
    await expect(page).to_have_url(re.compile(r"/staff/login$"))
