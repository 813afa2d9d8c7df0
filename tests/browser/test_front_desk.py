"""The front desk in a real browser: a walk-in booked through the form, moved, cancelled
with a reason; a visit under way marked a no-show from the day view's dialog; a staff
user neither offered nor allowed a colleague's booking."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import Locator, Page, expect

from core.domain.booking import BookingStatus
from tests.browser.browsing import sign_in
from tests.browser.conftest import Salon
from tests.browser.demo_day import ANNA, OWNER

pytestmark = pytest.mark.db

ONLY_THEIRS = "Only the owner or the staff member of this booking can change it."


def booking(page: Page, customer: str) -> Locator:
    return page.locator("article.booking").filter(has_text=customer)


def fact(page: Page, name: str) -> Locator:
    """A booking page's fact by its name (When, Service, Staff member, ...)."""
    return page.locator(f"dl.facts dt:text-is('{name}') + dd")


async def status_of(salon: Salon, booking_id: int) -> BookingStatus:
    detail = await salon.app.front_desk.booking(booking_id)
    return detail.block.status


async def test_a_walk_in_is_booked_moved_and_cancelled_with_a_reason(
    page: Page, salon: Salon
) -> None:
    await sign_in(page, OWNER)
    await page.locator("nav.dates").get_by_role("link", name="New booking").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("New booking")
    await page.get_by_label("Service").select_option(label="Manicure")
    await page.get_by_label("Staff member").select_option(label="Maria")
    await expect(page.get_by_label("Date")).to_have_value("2026-12-09")
    await page.get_by_role("button", name="Show free times").click()
    # Maria is busy until 11:10 (Ada's manicure and its buffer), her break is at 13:00.
    times = page.get_by_label("Time")
    await expect(times.locator("option")).to_contain_text(["11:15", "11:30", "11:45"])
    await times.select_option("11:30")
    await page.get_by_label("New customer").check()
    await page.get_by_label("Name", exact=True).fill("Wanda Walk-in")
    await page.get_by_label("Phone").fill("+49 30 555 0101")
    await page.get_by_role("button", name="Book", exact=True).click()

    await expect(page.get_by_role("status")).to_have_text("The booking is made.")
    await expect(fact(page, "When")).to_have_text("Wednesday, 9 December 2026, 11:30–12:30")
    await expect(fact(page, "Staff member")).to_have_text("Maria")
    await expect(fact(page, "Customer")).to_have_text("Wanda Walk-in")
    await expect(fact(page, "Chat")).to_have_text("Walk-in or phone")
    booked = re.search(r"/staff/booking/(\d+)", page.url)
    assert booked is not None
    wanda = int(booked.group(1))

    # To Olga at 16:00: Maria has Eva's pedicure at 14:00 and Farah at 16:30.
    await page.get_by_label("Time").fill("16:00")
    await page.get_by_label("Staff member").select_option(label="Olga")
    await page.get_by_role("button", name="Move", exact=True).click()

    await expect(page.get_by_role("status")).to_have_text("The booking is moved.")
    await expect(fact(page, "When")).to_have_text("Wednesday, 9 December 2026, 16:00–17:00")
    await expect(fact(page, "Staff member")).to_have_text("Olga")
    await page.get_by_role("link", name="Back to the day").click()
    olga = page.locator("section.column").filter(has=page.get_by_role("heading", name="Olga"))
    await expect(olga.locator("article.booking").filter(has_text="Wanda")).to_contain_text(
        "16:00–17:00"
    )

    await page.goto(f"/staff/booking/{wanda}")
    await page.get_by_label("Reason (the customer is told)").fill("She called: she is ill")
    await page.get_by_role("button", name="Cancel the booking").click()

    await expect(page.get_by_role("status")).to_contain_text("The booking is cancelled.")
    await expect(fact(page, "Status")).to_have_text("Cancelled")
    await expect(page.locator("ol.history li").last).to_contain_text("She called: she is ill")
    assert await status_of(salon, wanda) is BookingStatus.CANCELLED
    await page.get_by_role("link", name="Back to the day").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday, 9 December 2026")
    await expect(booking(page, "Wanda")).to_have_count(0)


async def test_a_visit_under_way_is_marked_a_no_show_from_the_days_dialog(
    page: Page, salon: Salon
) -> None:
    salon.clock.set(datetime(2026, 12, 9, 9, 20, tzinfo=UTC))  # 10:20: Ada was due at 10:00
    await sign_in(page, OWNER)

    await booking(page, "Ada Lovelace").click()

    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("#dialog-title")).to_have_text(re.compile(r"^Booking #\d+$"))
    await expect(dialog.locator("dl.facts")).to_contain_text("Ada Lovelace")
    await dialog.get_by_role("button", name="No-show").click()

    await expect(page.get_by_role("status")).to_have_text("The visit is marked as a no-show.")
    await expect(fact(page, "Status")).to_have_text("No-show")
    await page.get_by_role("link", name="Back to the day").click()
    ada = booking(page, "Ada Lovelace")
    await expect(ada.locator(".status")).to_have_text("No-show")
    await expect(ada).to_have_class(re.compile(r"\bno_show\b"))


async def test_a_staff_user_is_not_offered_a_colleagues_booking_and_a_forged_change_is_refused(
    page: Page, salon: Salon
) -> None:
    await sign_in(page, ANNA)

    # Her own booking: she may change it.
    await booking(page, "Ben Walker").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("button", name="Cancel the booking")).to_be_visible()
    await dialog.get_by_role("button", name="Close").click()

    # Maria's: shown, with no action at all.
    ada = booking(page, "Ada Lovelace")
    ada_id = int(await ada.get_attribute("data-booking") or "0")
    version = await ada.get_attribute("data-version") or ""
    await ada.click()
    await expect(dialog.locator("dl.facts")).to_contain_text("Ada Lovelace")
    await expect(dialog.get_by_text(ONLY_THEIRS)).to_be_visible()
    await expect(dialog.locator("form.act")).to_have_count(0)

    # The form she was not offered, sent anyway with her own valid CSRF token.
    token = await page.locator("header input[name=csrf]").input_value()
    answer = await page.request.post(
        f"/staff/booking/{ada_id}/cancel",
        form={"csrf": token, "version": version, "reason": "not mine to cancel"},
    )

    assert answer.status == 403
    assert await status_of(salon, ada_id) is BookingStatus.CONFIRMED
    await page.reload()
    await expect(booking(page, "Ada Lovelace").locator(".status")).to_have_text("Confirmed")
