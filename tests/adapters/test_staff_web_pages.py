"""The staff web's day and week pages over the in-memory calendar: what they show, where,
in which language, and a 404 page for anything they cannot show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.adapters.staff_web_harness import PASSWORD, staff_desk


def _block(page: str, customer: str) -> str:
    """The ``<article>`` of ``customer``'s booking."""
    found = re.search(
        r'<article class="booking[^"]*"[^>]*>(?:(?!</article>).)*'
        + customer
        + r"(?:(?!</article>).)*</article>",
        page,
        re.S,
    )
    assert found is not None, customer
    return found.group(0)


async def test_the_day_view_shows_each_staff_members_bookings_in_local_time() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        page = (await desk.client.get("/staff/day/2026-12-08")).text
        assert page.index('aria-label="Anna"') < page.index('aria-label="Maria"')
        olga = _block(page, "Olga Petrova")
        assert '<time datetime="2026-12-08T09:00:00+00:00">10:00</time>' in olga
        assert '<time datetime="2026-12-08T10:00:00+00:00">11:00</time>' in olga
        assert "Classic manicure" in olga
        assert "Confirmed" in olga
        assert "Telegram" in olga
        # The grid opens at 09:00 (Anna's start): 10:00 is line 5, 11:00 line 9.
        assert "gs-5 ge-9" in olga
        jonas = _block(page, "Jonas Weber")
        assert "14:30" in jonas
        assert "15:15" in jonas
        assert "Held, not yet confirmed" in jonas
        assert "Walk-in or phone" in jonas
        assert 'class="booking held gs-23 ge-26"' in jonas


async def test_the_day_view_shades_the_hours_a_staff_member_does_not_work() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        page = (await desk.client.get("/staff/day/2026-12-08")).text
        maria = page[page.index('aria-label="Maria"') :]
        # Maria works 10:00-20:00 on a grid from 09:00 to 20:00: 09:00-10:00 is closed.
        assert '<div class="shade closed gs-1 ge-5">Not working</div>' in maria
        assert '<div class="fill gs-1 ge-45">' in page


async def test_today_has_a_now_line_and_other_days_have_none() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        today = (await desk.client.get("/staff/")).text
        # 10:30 in Berlin on a grid from 09:00: line 7, in each of the two columns.
        assert today.count('<div class="now gs-7">') == 2
        tomorrow = (await desk.client.get("/staff/day/2026-12-09")).text
        assert 'class="now' not in tomorrow


async def test_the_day_view_links_the_days_around_it_and_each_staff_members_week() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        page = (await desk.client.get("/staff/day/2027-01-01")).text
        assert 'href="/staff/day/2026-12-31" rel="prev"' in page
        assert 'href="/staff/day/2027-01-02" rel="next"' in page
        assert 'href="/staff/day/2026-12-08">Today' in page
        assert 'href="/staff/week/anna/2027-01-01"' in page
        assert 'href="/staff/week/maria/2027-01-01"' in page


async def test_the_week_view_shows_monday_to_sunday_of_one_staff_member() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        page = await desk.client.get("/staff/week/anna/2026-12-10")
        assert page.status_code == 200
        days = re.findall(r'<h2 class="head"><a href="/staff/day/([\d-]+)">', page.text)
        assert days == [f"2026-12-{n:02d}" for n in range(7, 14)]
        assert "Anna: week of Mon 7 Dec" in page.text
        assert "Olga Petrova" in page.text
        assert "Jonas Weber" not in page.text  # Maria's
        assert 'href="/staff/week/anna/2026-11-30" rel="prev"' in page.text
        assert 'href="/staff/week/anna/2026-12-14" rel="next"' in page.text
        assert desk.calendar.calls == 1


@pytest.mark.parametrize(
    "path",
    [
        "/staff/day/2026-13-01",
        "/staff/day/2026-02-30",
        "/staff/day/tomorrow",
        "/staff/day/20261208",
        "/staff/day/0001-01-01",
        "/staff/day/9999-12-31",
        "/staff/week/nobody/2026-12-08",
        "/staff/week/anna/2026-12-08x",
        "/staff/no/such/page",
    ],
)
async def test_a_bad_date_or_an_unknown_staff_member_is_a_404_page(path: str) -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        answer = await desk.client.get(path)
        assert answer.status_code == 404
        assert "Page not found" in answer.text
        assert 'href="/staff/">Back to today' in answer.text


async def test_a_russian_staff_user_sees_the_pages_in_russian() -> None:
    async with staff_desk() as desk:
        await desk.sign_in("anna@salon.test", PASSWORD)
        page = (await desk.client.get("/staff/day/2026-12-08")).text
        assert '<html lang="ru">' in page
        assert "вторник, 8 декабря 2026" in page
        assert "Сегодня" in page
        assert "Выйти" in page
        week = (await desk.client.get("/staff/week/anna/2026-12-08")).text
        assert "Anna: неделя с пн 7 дек." in week


async def test_the_login_form_speaks_the_browsers_language() -> None:
    async with staff_desk() as desk:
        page = await desk.client.get("/staff/login", headers={"accept-language": "ru-RU,ru;q=0.9"})
        assert "Войти" in page.text
        english = await desk.client.get("/staff/login", headers={"accept-language": "xx, en"})
        assert "Sign in" in english.text


async def test_the_day_view_and_its_stylesheet_weigh_under_100_kb() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        for n in range(40):  # a busy day: 20 visits each
            block = desk.calendar.bookings["anna"][0]
            desk.calendar.book(
                "anna" if n % 2 else "maria",
                type(block)(**{**{f: getattr(block, f) for f in block.__slots__}, "id": 10 + n}),
            )
        page = await desk.client.get("/staff/day/2026-12-08")
        css = await desk.client.get("/staff/static/staff.css")
        assert len(page.content) + len(css.content) < 100_000


async def test_the_page_stays_signed_in_while_used_and_ends_after_seven_days() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        for _ in range(15):  # 165 hours, each visit within 12 h of the last
            desk.clock.advance(timedelta(hours=11))
            assert (await desk.client.get("/staff/")).status_code == 200
        desk.clock.advance(timedelta(hours=11))
        assert (await desk.client.get("/staff/")).status_code == 303
