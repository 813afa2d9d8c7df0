"""``/staff/live`` through a real HTTP server (uvicorn, in this process) over the in-memory
ports: each change is an event, heartbeats keep the line open, the stream ends with the
session, with the feed, or when the browser leaves; a bound on streams; the feed page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from adapters.staff_web import live as live_route
from core.calendar.desk import CalendarChange
from tests.adapters.staff_web_harness import PASSWORD, StaffDesk, staff_desk
from tests.adapters.telegram_harness import eventually

WITHIN = 10.0


@contextlib.asynccontextmanager
async def served(desk: StaffDesk) -> AsyncIterator[httpx.AsyncClient]:
    """The staff app on a real port, and a client signed in as the owner."""
    web = FastAPI()
    web.mount("/staff", desk.staff_app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(web, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, within=WITHIN)
    await desk.sign_in()
    base = f"http://127.0.0.1:{port}"
    try:
        session = desk.client.cookies["salonbot_staff"]
        async with httpx.AsyncClient(
            base_url=base, headers={"cookie": f"salonbot_staff={session}"}, timeout=WITHIN
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WITHIN)


async def read_until(lines: AsyncIterator[str], wanted: str) -> list[str]:
    seen: list[str] = []
    async with asyncio.timeout(WITHIN):
        async for line in lines:
            seen.append(line)
            if line == wanted:
                return seen
    raise AssertionError(f"the stream ended before {wanted!r}: {seen}")


async def opened(lines: AsyncIterator[str]) -> int | None:
    """Past the stream's preamble (the reconnection delay, a comment, and the hello that
    says how many changes the server had heard once subscribed); that number."""
    preamble = await read_until(lines, "")
    assert preamble[:3] == ["retry: 5000", ": live", "event: hello"]
    assert len(preamble) == 5
    hello = data_of(preamble)[0]
    assert isinstance(hello, dict)
    heard = hello["heard"]
    assert heard is None or isinstance(heard, int)
    return heard


def data_of(lines: list[str]) -> list[object]:
    return [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data:")]


async def test_each_change_arrives_as_an_event_and_leaving_ends_the_subscription() -> None:
    async with staff_desk() as desk, served(desk) as client:
        async with client.stream("GET", "/staff/live") as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/event-stream")
            assert answer.headers["cache-control"] == "no-store"
            lines = answer.aiter_lines()
            await opened(lines)
            assert desk.live.subscribers == 1
            desk.live.changed(CalendarChange("anna", (date(2026, 12, 8), date(2026, 12, 9))))
            first = await read_until(lines, "")
            desk.live.gap()
            second = await read_until(lines, "")

        assert "event: changed" in first
        assert data_of(first) == [{"staff_key": "anna", "days": ["2026-12-08", "2026-12-09"]}]
        assert data_of(second) == [{"staff_key": None, "days": None}]
        await eventually(lambda: desk.live.subscribers == 0, within=WITHIN)


async def test_a_change_between_drawing_a_page_and_opening_its_stream_is_told() -> None:
    async with staff_desk() as desk, served(desk) as client:
        drawn = (await client.get("/staff/day/2026-12-08")).text
        marker = re.search(r'data-heard="(\d+)"', drawn)
        assert marker is not None
        async with client.stream("GET", "/staff/live") as answer:
            quiet = await opened(answer.aiter_lines())
        desk.live.changed(CalendarChange("anna", (date(2026, 12, 8),)))
        async with client.stream("GET", "/staff/live") as answer:
            missed = await opened(answer.aiter_lines())

    # Nothing in between: the page's number is the stream's, the page keeps what it has.
    assert quiet == int(marker.group(1))
    # A change in between: the numbers differ, so live.js reloads the calendar.
    assert missed == int(marker.group(1)) + 1


async def test_a_quiet_stream_gets_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_route, "HEARTBEAT", 0.05)
    async with (
        staff_desk() as desk,
        served(desk) as client,
        client.stream("GET", "/staff/live") as answer,
    ):
        lines = answer.aiter_lines()
        await read_until(lines, ": live")
        await read_until(lines, ": heartbeat")


async def test_the_stream_ends_when_the_session_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_route, "HEARTBEAT", 0.05)
    monkeypatch.setattr(live_route, "RECHECK", 0.05)
    async with staff_desk() as desk, served(desk) as client:
        async with client.stream("GET", "/staff/live") as answer:
            lines = answer.aiter_lines()
            await opened(lines)
            await desk.accounts.sign_out(desk.client.cookies["salonbot_staff"])
            async with asyncio.timeout(WITHIN):
                rest = [line async for line in lines]
        assert all(line in ("", ": heartbeat") for line in rest)
        assert desk.live.subscribers == 0


async def test_streams_end_at_once_when_the_feed_stops() -> None:
    async with staff_desk() as desk, served(desk) as client:
        async with client.stream("GET", "/staff/live") as answer:
            lines = answer.aiter_lines()
            await opened(lines)
            desk.live.stop()
            async with asyncio.timeout(WITHIN):
                assert [line async for line in lines] == []
        later = await client.get("/staff/live")  # ends at once: the process is stopping
        assert later.status_code == 200
        assert "event: changed" not in later.text


async def test_past_the_bound_a_stream_is_refused_with_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live_route, "MOST_STREAMS", 1)
    async with staff_desk() as desk, served(desk) as client:
        async with client.stream("GET", "/staff/live") as answer:
            await read_until(answer.aiter_lines(), ": live")
            refused = await client.get("/staff/live")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "60"
        await eventually(lambda: desk.live.subscribers == 0, within=WITHIN)
        async with client.stream("GET", "/staff/live") as again:
            await read_until(again.aiter_lines(), ": live")


async def test_one_user_cannot_take_every_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_route, "MOST_STREAMS_PER_USER", 1)
    async with (
        staff_desk() as desk,
        served(desk) as owner,
        httpx.AsyncClient(base_url=owner.base_url, timeout=WITHIN) as anna,
    ):
        login = await anna.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        signed = await anna.post(
            "/staff/login",
            data={"email": "anna@salon.test", "password": PASSWORD, "csrf": csrf.group(1)},
        )
        assert signed.status_code == 303
        async with owner.stream("GET", "/staff/live") as first:
            await opened(first.aiter_lines())
            refused = await owner.get("/staff/live")
            async with anna.stream("GET", "/staff/live") as hers:
                assert hers.status_code == 200
                await opened(hers.aiter_lines())

    assert refused.status_code == 503


async def test_signed_in_pages_load_live_js_and_the_login_page_does_not() -> None:
    async with staff_desk() as desk:
        login = await desk.client.get("/staff/login")
        await desk.sign_in()
        page = await desk.client.get("/staff/")
        script = await desk.client.get("/staff/static/live.js")

    tag = (
        '<script src="/staff/static/live.js" data-live="/staff/live" data-heard="0" defer></script>'
    )
    assert tag in page.text
    assert "live.js" not in login.text
    assert script.status_code == 200
    assert "salonbot:changed" in script.text


LINK = re.compile(r'value="(http://salon\.test/staff/feed/[A-Za-z0-9_-]+\.ics)"')


async def test_the_owner_makes_a_feed_link_shown_once_and_the_old_one_stops() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        week = await desk.client.get("/staff/week/anna/2026-12-08")
        assert 'href="/staff/feeds/anna"' in week.text
        page = await desk.client.get("/staff/feeds/anna")
        assert LINK.search(page.text) is None
        token = await desk.form_token("/staff/feeds/anna")
        first = await desk.client.post("/staff/feeds/anna", data={"csrf": token})
        second = await desk.client.post("/staff/feeds/anna", data={"csrf": token})
        again = await desk.client.get("/staff/feeds/anna")
        old, new = (LINK.search(answer.text) for answer in (first, second))
        assert old is not None
        assert new is not None
        gone = await desk.client.get(old.group(1).removeprefix("http://salon.test"))
        feed = await desk.client.get(new.group(1).removeprefix("http://salon.test"))

    assert first.status_code == second.status_code == 200
    assert LINK.search(again.text) is None  # shown once
    assert gone.status_code == 404
    assert feed.status_code == 200
    assert feed.text.startswith("BEGIN:VCALENDAR\r\n")
    assert desk.feeds.made_by("anna") == "owner@salon.test"


async def test_a_staff_member_may_not_make_a_colleagues_link_nor_skip_the_csrf_token() -> None:
    async with staff_desk() as desk:
        await desk.sign_in(email="anna@salon.test")
        token = await desk.form_token("/staff/feeds/anna")
        colleague = await desk.client.get("/staff/feeds/maria")
        refused = await desk.client.post("/staff/feeds/maria", data={"csrf": token})
        forged = await desk.client.post("/staff/feeds/anna", data={"csrf": "forged"})
        unknown = await desk.client.get("/staff/feeds/nobody")
        own = await desk.client.post("/staff/feeds/anna", data={"csrf": token})

    assert 'name="csrf"' not in colleague.text.split("</header>")[1]  # no button
    assert refused.status_code == 403
    assert desk.feeds.made_by("maria") is None
    assert forged.status_code == 403
    assert unknown.status_code == 404
    assert own.status_code == 200
    assert "Календарь для телефона" in own.text  # Anna reads Russian
    assert desk.feeds.made_by("anna") == "anna@salon.test"


async def test_a_link_is_stopped_from_its_page_with_the_csrf_token_only() -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        token = await desk.form_token("/staff/feeds/anna")
        made = await desk.client.post("/staff/feeds/anna", data={"csrf": token})
        link = LINK.search(made.text)
        assert link is not None
        forged = await desk.client.post("/staff/feeds/anna/stop", data={"csrf": "forged"})
        still = await desk.client.get(link.group(1).removeprefix("http://salon.test"))
        stopped = await desk.client.post("/staff/feeds/anna/stop", data={"csrf": token})
        gone = await desk.client.get(link.group(1).removeprefix("http://salon.test"))

    assert forged.status_code == 403
    assert still.status_code == 200
    assert stopped.status_code == 200
    assert "The link is stopped" in stopped.text
    assert gone.status_code == 404


async def test_a_feed_link_is_built_on_the_salons_public_address() -> None:
    # Behind a proxy the request reads as the proxy saw it (http, an inner host); the link
    # is for a phone outside, on the salon's public address.
    async with staff_desk(public_url="https://salon.example") as desk:
        await desk.sign_in()
        token = await desk.form_token("/staff/feeds/anna")
        made = await desk.client.post("/staff/feeds/anna", data={"csrf": token})

    assert re.search(r'value="https://salon\.example/staff/feed/[A-Za-z0-9_-]+\.ics"', made.text)


async def test_a_feed_that_fails_never_writes_its_token_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with staff_desk() as desk:
        await desk.sign_in()
        token = await desk.form_token("/staff/feeds/anna")
        made = await desk.client.post("/staff/feeds/anna", data={"csrf": token})
        link = LINK.search(made.text)
        assert link is not None
        secret = link.group(1).rsplit("/", 1)[1].removesuffix(".ics")
        desk.feeds.away = True
        web = FastAPI()
        web.mount("/staff", desk.staff_app)
        # As a server answers: the failure is a 500 page, not an exception in the client.
        transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as bare:
            with caplog.at_level(logging.INFO):
                failed = await bare.get(link.group(1).removeprefix("http://salon.test"))

    assert failed.status_code == 500
    logged = [r for r in caplog.records if r.name == "salonbot.staff_web"]
    assert logged, "the failure is logged"
    for record in logged:
        assert getattr(record, "route", None) == "GET /feed/{token}.ics"
        written = " ".join(str(v) for v in vars(record).values())
        assert secret not in written
        assert secret not in (record.exc_text or "")
