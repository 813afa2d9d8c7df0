"""What ``staff.js`` does in a real browser when the calendar changes under it, a session
ends, an answer comes late, a form is clicked twice or an empty spot is clicked: the
review's cases, each on the demo salon's Wednesday."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.browsing import sign_in
from tests.browser.conftest import Salon
from tests.browser.demo_day import BERLIN, OWNER, WEDNESDAY, Visit, book
from tests.waiting import until

pytestmark = pytest.mark.db

THURSDAY = WEDNESDAY + timedelta(days=1)
HEARD = """() => {
    window.toldOf = [];
    document.addEventListener("salonbot:changed", (e) => window.toldOf.push(e.detail));
}"""


async def signed_in_and_listening(page: Page, salon: Salon) -> None:
    """The owner on Wednesday's day view, its live stream subscribed, its changes kept in
    ``window.toldOf``."""
    await sign_in(page, OWNER)

    async def page_listens() -> bool:
        return salon.app.live.subscribers == 1 and salon.app.live.listening

    await until(page_listens, "the page's stream listens to the database")
    await page.evaluate(HEARD)


async def booked_and_heard(page: Page, salon: Salon, visit: Visit) -> None:
    """``visit`` booked through the use case, and the page told of it."""
    await book(salon.app, visit, 100)
    day = visit.day.isoformat()
    await page.wait_for_function(
        "(day) => window.toldOf.some((c) => c.days && c.days.includes(day))", arg=day
    )


async def test_a_page_fetched_ahead_is_not_shown_once_the_calendar_changed(
    page: Page, salon: Salon
) -> None:
    await signed_in_and_listening(page, salon)
    next_day = page.get_by_role("link", name="Next day →")
    async with page.expect_response(re.compile(r"/staff/day/2026-12-10$")):
        await next_day.hover()  # fetched ahead, before the booking below
    await booked_and_heard(
        page, salon, Visit("Zoe Late", "", "manicure", "olga", THURSDAY, time(10, 0))
    )
    await next_day.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thursday, 10 December 2026")
    await expect(page.locator("article.booking").filter(has_text="Zoe Late")).to_be_visible()


async def test_closing_the_dialog_after_a_change_shows_the_grid_as_it_is_now(
    page: Page, salon: Salon
) -> None:
    await signed_in_and_listening(page, salon)
    await page.locator("article.booking").filter(has_text="Ada Lovelace").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("#dialog-title")).to_contain_text("Booking #")
    await booked_and_heard(
        page, salon, Visit("Zoe Late", "", "manicure", "maria", WEDNESDAY, time(11, 30))
    )
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("article.booking").filter(has_text="Zoe Late")).to_be_visible()


async def test_a_late_answer_for_the_booking_opened_before_is_not_shown(
    page: Page, salon: Salon
) -> None:
    await sign_in(page, OWNER)
    ada = page.locator("article.booking").filter(has_text="Ada Lovelace")
    ada_id = await ada.get_attribute("data-booking")

    async def slowly(route: Route) -> None:
        await asyncio.sleep(1)
        await route.continue_()

    await page.route(f"**/staff/booking/{ada_id}?part=dialog", slowly)
    dialog = page.get_by_role("dialog")
    await ada.click()
    await dialog.get_by_role("button", name="Close").click()
    await page.locator("article.booking").filter(has_text="Ben Walker").click()
    await expect(dialog).to_contain_text("Ben Walker")
    await page.wait_for_timeout(1500)  # Ada's answer has come and gone
    await expect(dialog).to_contain_text("Ben Walker")
    await expect(dialog).not_to_contain_text("Ada Lovelace")


async def test_an_ended_session_takes_the_user_to_sign_in_only_when_they_click(
    page: Page, salon: Salon
) -> None:
    await sign_in(page, OWNER)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "salonbot_staff")
    await salon.app.accounts.sign_out(cookie["value"])
    shown = page.url
    next_day = page.get_by_role("link", name="Next day →")
    async with page.expect_response(re.compile(r"/staff/login$")):
        await next_day.hover()  # fetched ahead, and sent to the sign-in page
    await page.wait_for_timeout(300)
    assert page.url == shown
    await next_day.click()
    await expect(page).to_have_url(re.compile(r"/staff/login$"))


async def test_a_form_clicked_twice_is_sent_once_with_its_buttons_value(
    page: Page, salon: Salon
) -> None:
    salon.clock.set(datetime(2026, 12, 9, 10, 30, tzinfo=UTC))  # 11:30: Ada's visit began
    await sign_in(page, OWNER)
    ada = page.locator("article.booking").filter(has_text="Ada Lovelace")
    href = await ada.locator("a").get_attribute("href")  # her booking's own page
    assert href is not None
    await page.goto(href)
    sent: list[str] = []

    async def slowly(route: Route) -> None:  # a slow server: time for a second click
        sent.append(route.request.post_data or "")
        await asyncio.sleep(1.5)
        await route.continue_()

    await page.route("**/mark", slowly)
    # Two clicks 50 ms apart, in the page (a locator would wait for the page to come).
    disabled = await page.evaluate(
        """() => new Promise((done) => {
            const button = document.querySelector("button[value=no_show]");
            button.click();
            setTimeout(() => {
                const after = button.disabled;
                button.click();
                done(after);
            }, 50);
        })"""
    )
    assert disabled is True
    await expect(page.get_by_role("status")).to_have_text("The visit is marked as a no-show.")
    assert len(sent) == 1, sent
    assert "outcome=no_show" in sent[0]


async def test_an_empty_spot_clicked_opens_the_walk_in_form_at_its_time(
    page: Page, salon: Salon
) -> None:
    await sign_in(page, OWNER)
    maria = page.locator("section.column").filter(has=page.get_by_role("heading", name="Maria"))
    rows = maria.locator(".rows")
    top = await rows.get_attribute("data-top")
    count = int(await rows.get_attribute("data-rows") or 0)
    assert top is not None
    assert count > 0
    box = await rows.bounding_box()
    assert box is not None
    line = 1  # the grid's second row: before anyone's first booking
    await page.mouse.click(
        box["x"] + box["width"] / 2, box["y"] + (line + 0.5) * box["height"] / count
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("New booking")
    expected = (datetime.fromisoformat(top) + timedelta(minutes=15 * line)).astimezone(BERLIN)
    assert re.search(r"[?&]start=", page.url), page.url
    await expect(page.get_by_label("Date")).to_have_value(expected.date().isoformat())
    hidden = page.locator('input[type="hidden"][name="at"]')
    await expect(hidden).to_have_value(expected.strftime("%H:%M"))
