"""Signing in and out of the staff web, its CSRF guards, cookies and headers, and the rule
that nothing but the login form and the static files answers without a session."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from adapters.staff_web.app import PUBLIC_ROUTES, STATIC_PATH
from adapters.staff_web.feeds import FEED_PATH
from adapters.staff_web.security import HEADERS
from tests.adapters.staff_web_harness import OWNER, PASSWORD, staff_desk


async def test_the_right_password_signs_in_and_opens_todays_calendar() -> None:
    async with staff_desk() as desk:
        answer = await desk.sign_in()
        assert answer.status_code == 303
        assert answer.headers["location"] == "/staff/"
        page = await desk.client.get("/staff/")
        assert page.status_code == 200
        assert "Tuesday, 8 December 2026" in page.text
        assert OWNER in page.text


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer() -> None:
    async with staff_desk() as desk:
        wrong = await desk.sign_in(password="not the password")
        unknown = await desk.sign_in(email="nobody@salon.test")
        assert wrong.status_code == unknown.status_code == 401
        message = re.compile(r'<p class="problem" role="alert">([^<]*)</p>')
        said = {m.group(1) for m in map(message.search, (wrong.text, unknown.text)) if m}
        assert said == {"Wrong email or password."}
        assert (await desk.client.get("/staff/")).status_code == 303


async def test_a_locked_account_reads_like_a_wrong_password_until_the_lock_ends() -> None:
    async with staff_desk() as desk:
        for _ in range(5):
            assert (await desk.sign_in(password="guess")).status_code == 401
        locked = await desk.sign_in()  # the right password, while locked
        assert locked.status_code == 401
        assert "Wrong email or password." in locked.text
        desk.clock.advance(timedelta(minutes=16))
        assert (await desk.sign_in()).status_code == 303


async def test_an_address_with_too_many_failures_is_told_to_try_later() -> None:
    async with staff_desk() as desk:
        for n in range(20):
            await desk.sign_in(email=f"guess{n}@salon.test")
        throttled = await desk.sign_in()
        assert throttled.status_code == 429
        assert "Too many failed attempts. Try again later." in throttled.text


async def test_a_login_without_the_forms_token_is_refused_before_any_attempt() -> None:
    async with staff_desk() as desk:
        await desk.form_token()
        answer = await desk.client.post(
            "/staff/login", data={"email": OWNER, "password": PASSWORD, "csrf": "forged"}
        )
        missing = await desk.client.post(
            "/staff/login", data={"email": OWNER, "password": PASSWORD}
        )
        assert answer.status_code == missing.status_code == 403
        assert desk.accounts.attempts == []
        assert desk.accounts.live_sessions == 0


async def test_an_oversized_or_non_form_login_body_is_refused() -> None:
    async with staff_desk() as desk:
        token = await desk.form_token()
        huge = await desk.client.post(
            "/staff/login", data={"email": "a" * 17_000, "password": PASSWORD, "csrf": token}
        )
        as_json = await desk.client.post(
            "/staff/login", json={"email": OWNER, "password": PASSWORD, "csrf": token}
        )
        assert huge.status_code == as_json.status_code == 403
        assert desk.accounts.attempts == []


async def test_a_long_password_in_another_script_still_fits_the_form() -> None:
    async with staff_desk() as desk:
        long_password = "пароль" * 170  # 1,020 characters, about 12 KB once encoded
        desk.accounts.add("anna@salon.test", long_password)
        answer = await desk.sign_in(email="anna@salon.test", password=long_password)
        assert answer.status_code == 303


async def test_signing_in_over_another_users_session_ends_it() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        assert desk.accounts.live_sessions == 1
        desk.accounts.add("anna@salon.test", "anna's password")
        await desk.sign_in(email="anna@salon.test", password="anna's password")
        assert desk.accounts.live_sessions == 1


async def test_logging_out_ends_the_session() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        token = await desk.form_token("/staff/")
        answer = await desk.client.post("/staff/logout", data={"csrf": token})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/staff/login"
        assert desk.accounts.live_sessions == 0
        assert (await desk.client.get("/staff/")).status_code == 303


async def test_a_logout_without_the_sessions_csrf_token_is_refused_and_changes_nothing() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        login_token = await desk.form_token()  # a valid token, but not the session's
        for data in ({}, {"csrf": login_token}):
            answer = await desk.client.post("/staff/logout", data=data)
            assert answer.status_code == 403
        assert desk.accounts.live_sessions == 1
        assert (await desk.client.get("/staff/")).status_code == 200


async def test_pages_redirect_to_login_without_a_live_session() -> None:
    async with staff_desk() as desk:
        for path in ("/staff/", "/staff/day/2026-12-08", "/staff/week/anna/2026-12-08"):
            answer = await desk.client.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == "/staff/login"
        await desk.sign_in()
        assert (await desk.client.get("/staff/")).status_code == 200
        desk.clock.advance(timedelta(hours=12, minutes=1))  # idle past the sliding 12 h
        assert (await desk.client.get("/staff/")).status_code == 303


def _sample_path(path: str) -> str:
    samples = {
        "{day}": "2026-12-08",
        "{staff_key}": "anna",
        "{token}": "x" * 43,
        "{booking_id}": "1",
        "{customer_id}": "1",
        "{alert_id}": "1",
    }
    for name, value in samples.items():
        path = path.replace(name, value)
    assert "{" not in path, f"give {path} a sample value in this test"
    return path


async def test_every_route_but_the_login_form_and_static_files_needs_a_session() -> None:
    """A new route without the session dependency fails here; the calendar feed, public,
    is held to its token instead."""
    async with staff_desk() as desk:
        await desk.feeds.new_link(None, "anna")  # a real link exists; the sample is not it
        checked = 0
        for route in desk.staff_app.routes:
            if isinstance(route, Mount):
                assert route.path == STATIC_PATH
                continue
            assert isinstance(route, APIRoute), route
            for method in route.methods or ():
                if (route.path, method) == (FEED_PATH, "GET"):
                    answer = await desk.client.get("/staff" + _sample_path(route.path))
                    assert (answer.status_code, answer.text) == (404, "Not found")
                    continue
                if (route.path, method) in PUBLIC_ROUTES:
                    continue
                answer = await desk.client.request(method, "/staff" + _sample_path(route.path))
                # Pages (and signing out) send to the sign-in page; anything else is 401.
                to_sign_in = method in ("GET", "HEAD") or route.path == "/logout"
                expected = 303 if to_sign_in else 401
                assert answer.status_code == expected, (route.path, method)
                if to_sign_in:
                    assert answer.headers["location"].endswith("/staff/login")
                checked += 1
        assert checked >= 4


async def test_every_route_that_changes_something_refuses_a_session_without_the_csrf_token() -> (
    None
):
    """Signed in, each non-GET route posted to without a token, then with a forged one:
    403. A new POST route that skips the check fails here."""
    async with staff_desk() as desk:
        await desk.sign_in()
        checked = 0
        for route in desk.staff_app.routes:
            if not isinstance(route, APIRoute):
                continue
            for method in set(route.methods or ()) - {"GET", "HEAD"}:
                path = "/staff" + _sample_path(route.path)
                for data in ({}, {"csrf": "forged"}):
                    answer = await desk.client.request(method, path, data=data)
                    assert answer.status_code == 403, (route.path, method, data)
                checked += 1
        assert checked >= 10
        assert desk.accounts.live_sessions == 1  # not signed out, nor in again


async def test_every_staff_response_carries_the_security_headers() -> None:
    async with staff_desk() as desk:
        answers = [await desk.client.get("/staff/login"), await desk.client.get("/staff/")]
        await desk.sign_in()
        answers += [
            await desk.client.get("/staff/"),
            await desk.client.get("/staff/day/2026-99-01"),
            await desk.client.get("/staff/no/such/page"),
            await desk.client.post("/staff/logout", data={}),
        ]
        for answer in answers:
            for name, value in HEADERS.items():
                assert answer.headers[name] == value, (answer.request.url, name)
            assert answer.headers["cache-control"] == "no-store"
        assert "'unsafe-inline'" not in HEADERS["Content-Security-Policy"]
        css = await desk.client.get("/staff/static/staff.css")
        assert css.status_code == 200
        assert css.headers["x-content-type-options"] == "nosniff"
        assert "no-store" not in css.headers.get("cache-control", "")


async def test_the_session_cookie_is_httponly_lax_and_kept_to_the_staff_pages() -> None:
    async with staff_desk() as desk:
        cookie = (await desk.sign_in()).headers["set-cookie"]
        assert cookie.startswith("salonbot_staff=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/staff" in cookie
        assert "Secure" not in cookie


@pytest.mark.parametrize(
    ("https", "base_url"),
    [(True, "http://salon.test"), (False, "https://salon.test")],
    ids=["public address is https", "request came over https"],
)
async def test_the_cookies_are_secure_over_https(https: bool, base_url: str) -> None:
    async with staff_desk(https=https, base_url=base_url) as desk:
        form = await desk.client.get("/staff/login")
        assert "Secure" in form.headers["set-cookie"]
        token = desk.client.cookies["salonbot_login"]
        answer = await desk.client.post(
            "/staff/login",
            data={"email": OWNER, "password": PASSWORD, "csrf": token},
            # A browser sends a Secure cookie to the HTTPS address; httpx not over plain http.
            headers={"cookie": f"salonbot_login={token}"},
        )
        assert answer.status_code == 303
        session_cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("salonbot_staff=")
        )
        assert "Secure" in session_cookie


async def test_signing_out_of_a_session_that_has_ended_leads_to_the_sign_in_page() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        token = await desk.form_token("/staff/")
        desk.clock.advance(timedelta(hours=13))  # the session has ended meanwhile

        answer = await desk.client.post("/staff/logout", data={"csrf": token})

        assert answer.status_code == 303
        assert answer.headers["location"].endswith("/staff/login")
        assert 'salonbot_staff=""' in answer.headers.get("set-cookie", "")


async def test_a_page_that_fails_still_carries_the_security_headers() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()

        async def away(day: object) -> object:
            raise ConnectionError("the database went away")

        desk.calendar.day = away  # type: ignore[assignment,method-assign]
        outer = FastAPI()
        outer.mount("/staff", desk.staff_app)
        transport = httpx.ASGITransport(app=outer, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://salon.test", cookies=desk.client.cookies
        ) as client:
            answer = await client.get("/staff/")

        assert answer.status_code == 500
        assert "the database went away" not in answer.text
        for name, value in HEADERS.items():
            assert answer.headers[name] == value
        assert answer.headers["cache-control"] == "no-store"
