"""A POST the page did not make, or made without its CSRF token, is refused in a real browser
and changes nothing: the session it would have ended stays open."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.browsing import sign_in
from tests.browser.demo_day import OWNER, PASSWORD

pytestmark = pytest.mark.db

REFUSAL = "The form has expired or was not ours: reload the page."


async def still_signed_in(page: Page) -> None:
    await page.goto("/staff/")
    await expect(page).to_have_url(re.compile(r"/staff/$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday, 9 December 2026")


async def test_a_post_without_the_token_is_refused_though_the_cookie_goes_along(
    page: Page,
) -> None:
    await sign_in(page, OWNER)

    # The browser's own request context: the session cookie is sent, the token is not.
    answer = await page.request.post("/staff/logout", form={"other": "x"})

    assert answer.status == 403
    assert await answer.text() == REFUSAL
    await still_signed_in(page)


@pytest.mark.parametrize("tamper", ["input.remove()", "input.value = 'forged-' + input.value"])
async def test_the_sign_out_form_with_its_token_removed_or_changed_is_refused(
    page: Page, tamper: str
) -> None:
    await sign_in(page, OWNER)
    await page.locator("header form").evaluate(
        f"form => {{ const input = form.querySelector('input[name=csrf]'); {tamper}; }}"
    )

    async with page.expect_response(re.compile(r"/staff/logout$")) as sent:
        await page.get_by_role("button", name="Sign out").click()

    assert (await sent.value).status == 403
    await expect(page.locator("body")).to_have_text(REFUSAL)
    await still_signed_in(page)


async def test_the_sign_in_form_without_its_token_signs_nobody_in(page: Page) -> None:
    await page.goto("/staff/login")
    await page.locator("input[name=csrf]").evaluate("input => input.remove()")
    await page.get_by_label("Email").fill(OWNER)
    await page.get_by_label("Password").fill(PASSWORD)

    async with page.expect_response(re.compile(r"/staff/login$")) as sent:
        await page.get_by_role("button", name="Sign in").click()

    assert (await sent.value).status == 403
    await page.goto("/staff/")
    await expect(page).to_have_url(re.compile(r"/staff/login$"))
