"""Debian's chromium through Playwright, as the browser tests and the screenshots use it."""

from __future__ import annotations

import os
import shutil

from playwright.async_api import Browser, Page, Playwright

from tests.browser.demo_day import PASSWORD

# Debian's package; SALONBOT_CHROMIUM names another build of Chromium.
CHROMIUM = os.environ.get("SALONBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def chromium_missing() -> str | None:
    """Why Chromium cannot be started, or None."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"no Chromium at {CHROMIUM}: the browser tests drive Debian's chromium package "
        "(apt-get install chromium, as .ci/run does) or SALONBOT_CHROMIUM"
    )


async def launch(playwright: Playwright) -> Browser:
    """Headless Chromium; Playwright cannot download its own browsers here."""
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
    )


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill in and send the sign-in form, as a person would; return on the page it led to
    (the calendar, or the form again), fully loaded."""
    await page.goto("/staff/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()
