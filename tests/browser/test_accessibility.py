"""axe-core on the staff pages as a browser renders them: no serious or critical
violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import insert, select

from core.db.tables import calendar_pushes, calendar_syncs, staff
from core.linked_calendars.edits import RevertReason
from core.services.calendar_alerts import AlertKind, raise_alert
from salonbot.bootstrap import Salonbot
from tests.browser.axe import blocking_violations, report
from tests.browser.browsing import sign_in
from tests.browser.conftest import Salon
from tests.browser.demo_day import OWNER, WEDNESDAY

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


async def test_the_day_view_with_google_calendar_notices(page: Page, salon: Salon) -> None:
    await _calendar_troubles(salon.app)
    await sign_in(page, OWNER)
    notices = page.locator("details.linked")
    await expect(notices.get_by_role("button", name="Dismiss")).to_have_count(2)
    await assert_accessible(page)

    await notices.get_by_role("button", name="Dismiss").first.click()
    await expect(
        page.locator("details.linked").get_by_role("button", name="Dismiss")
    ).to_have_count(1)
    await assert_accessible(page)


async def _calendar_troubles(app: Salonbot) -> None:
    """Wednesday's Ada has a conflict and a move of hers was put back; Maria's calendar
    fails to be read, and the push of Chloé's visit to Olga's calendar is parked."""
    booked = {
        b.customer_name: b for c in (await app.calendar.day(WEDNESDAY)).columns for b in c.bookings
    }
    ada, chloe = booked["Ada Lovelace"], booked["Chloé Martin"]
    now = app.clock.now()
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
        for kind, detail in ((AlertKind.CONFLICT, ""), (AlertKind.REVERTED, RevertReason.TAKEN)):
            await raise_alert(
                uow.connection,
                catalog,
                staff_key="maria",
                kind=kind,
                booking_id=ada.id,
                event_id="dentist",
                detail=detail,
                at=now,
            )
        ids = {r.key: r.id for r in await uow.connection.execute(select(staff.c.key, staff.c.id))}
        await uow.connection.execute(
            insert(calendar_syncs).values(
                staff_id=ids["maria"],
                calendar_id="maria@example.org",
                failures=2,
                last_error="Google Calendar did not answer in time",
            )
        )
        await uow.connection.execute(
            insert(calendar_pushes).values(
                booking_id=chloe.id,
                staff_id=ids["olga"],
                calendar_id="olga@example.org",
                action="remove",
                attempts=1,
                next_attempt_at=now,
                created_at=now,
                parked_at=now,
                last_error="calendar not found or not shared (404 notFound)",
            )
        )
        await uow.commit()
