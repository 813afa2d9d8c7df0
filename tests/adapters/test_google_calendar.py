"""The Google Calendar adapter through the real google-api-python-client against the fake
Calendar API, with a service-account key made here: the whole OAuth2 JWT flow runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.google_calendar.client import GoogleCalendars, KeyFileError
from core.linked_calendars.ports import CalendarRefused, EventDraft, event_id
from tests.fakes.google_calendar import FakeGoogleCalendar

MARIA = "maria@group.calendar.google.com"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA)
        yield server


def _calendars(fake: FakeGoogleCalendar, tmp_path: Path, timeout: float = 5.0) -> GoogleCalendars:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(fake.service_account_info()))
    return GoogleCalendars.from_key_file(key_file, api_base=fake.base_url, timeout=timeout)


def _draft(booking_id: int = 41, summary: str = "Haircut: Anna") -> EventDraft:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    return EventDraft(
        event_id=event_id(booking_id),
        booking_id=booking_id,
        summary=summary,
        description="Booked through salonbot",
        start=start,
        end=start + timedelta(minutes=45),
        time_zone="Europe/Berlin",
    )


async def test_put_inserts_the_event_under_its_own_id(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    [event] = fake.events(MARIA)
    assert event["id"] == event_id(41)
    assert event["summary"] == "Haircut: Anna"
    assert event["start"] == {"dateTime": "2026-03-29T00:30:00+00:00", "timeZone": "Europe/Berlin"}
    assert event["extendedProperties"] == {"private": {"salonbotBookingId": "41"}}
    assert fake.tokens_issued == 1


async def test_put_again_patches_the_same_event(fake: FakeGoogleCalendar, tmp_path: Path) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    await calendars.put(MARIA, _draft(summary="Colour: Anna"))
    [event] = fake.events(MARIA)
    assert event["summary"] == "Colour: Anna"
    assert [method for method, _ in fake.calls] == ["POST", "POST", "PATCH"]


async def test_put_again_onto_an_all_day_event_makes_it_timed_again(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    """The staff member made salonbot's event all-day in Google; the put that puts it back
    patches it (409 on insert), and a patch merges ``start``/``end``: without clearing
    ``date`` the event would carry a date and a time, which Google refuses (400)."""
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    [pushed] = fake.events(MARIA)
    all_day = {"start": {"date": "2026-03-29"}, "end": {"date": "2026-03-30"}}
    fake.owner_put(MARIA, {**pushed, **all_day})

    await calendars.put(MARIA, _draft())

    [event] = fake.events(MARIA)
    assert event["start"] == {"dateTime": "2026-03-29T00:30:00+00:00", "timeZone": "Europe/Berlin"}
    assert event["end"] == {"dateTime": "2026-03-29T01:15:00+00:00", "timeZone": "Europe/Berlin"}
    assert [method for method, _ in fake.calls][-2:] == ["POST", "PATCH"]


async def test_put_again_onto_an_event_made_recurring_makes_it_single_again(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    [pushed] = fake.events(MARIA)
    fake.owner_put(MARIA, {**pushed, "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]})

    await calendars.put(MARIA, _draft())

    [event] = fake.events(MARIA)
    assert not event.get("recurrence")
    assert event["start"]["dateTime"] == "2026-03-29T00:30:00+00:00"


async def test_the_fake_merges_a_patch_as_google_does(fake: FakeGoogleCalendar) -> None:
    """Nested objects merged key by key, null clears a field, arrays replaced: a patch of
    only ``dateTime`` onto an all-day event leaves both and is refused."""
    fake.owner_put(MARIA, {"id": "allday01", "start": {"date": "2026-03-29"},
                           "end": {"date": "2026-03-30"}, "summary": "Off",
                           "extendedProperties": {"private": {"mine": "1"}}})  # fmt: skip
    token = fake.access_token()
    url = f"{fake.base_url}/calendar/v3/calendars/{MARIA}/events/allday01"
    timed = {"dateTime": "2026-03-29T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        async with session.patch(url, json={"start": timed, "end": timed}) as answer:
            refused = await answer.json()
            assert answer.status == 400
        assert refused["error"]["errors"][0]["reason"] == "invalid"
        assert refused["error"]["message"] == "Invalid start time."
        patch = {
            "start": {**timed, "date": None},
            "end": {**timed, "date": None},
            "summary": None,
            "extendedProperties": {"private": {"salonbotBookingId": "7"}},
        }
        async with session.patch(url, json=patch) as answer:
            assert answer.status == 200
    [event] = fake.events(MARIA)
    assert event["start"] == timed
    assert "summary" not in event
    assert event["extendedProperties"] == {"private": {"mine": "1", "salonbotBookingId": "7"}}


async def test_put_after_remove_brings_the_event_back(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    await calendars.remove(MARIA, event_id(41))
    await calendars.put(MARIA, _draft())
    assert [e["status"] for e in fake.events(MARIA)] == ["confirmed"]


async def test_remove_twice_and_unknown_are_done(fake: FakeGoogleCalendar, tmp_path: Path) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    await calendars.remove(MARIA, event_id(41))
    await calendars.remove(MARIA, event_id(41))  # 410 deleted
    await calendars.remove(MARIA, event_id(99))  # 404
    assert fake.events(MARIA) == []
    assert [e["status"] for e in fake.events(MARIA, deleted=True)] == ["cancelled"]


@pytest.mark.parametrize("access", [None, "missing"])
async def test_remove_from_a_calendar_gone_or_unshared_is_refused_not_done(
    fake: FakeGoogleCalendar, tmp_path: Path, access: str | None
) -> None:
    # Google answers the delete 404 notFound either way; only the calendar tells them apart.
    calendar_id = "gone@group.calendar.google.com"
    if access is None:
        fake.add_calendar(calendar_id, access=None)
    calendars = _calendars(fake, tmp_path)

    with pytest.raises(CalendarRefused) as refused:
        await calendars.remove(calendar_id, event_id(41))

    assert not refused.value.transient
    assert "not found or not shared" in refused.value.reason
    assert fake.calls[-1] == ("GET", f"/calendar/v3/calendars/{calendar_id}")


async def test_remove_whose_calendar_check_fails_for_now_is_tried_again(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path)
    await calendars.put(MARIA, _draft())
    fake.fail_next(1, 404, "notFound")  # the delete
    fake.fail_next(1, 503, "backendError")  # the calendar's check

    with pytest.raises(CalendarRefused) as refused:
        await calendars.remove(MARIA, event_id(41))

    assert refused.value.transient
    assert len(fake.events(MARIA)) == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [(429, "rateLimitExceeded"), (403, "rateLimitExceeded"), (503, "backendError")],
)
async def test_rate_limits_and_outages_are_transient(
    fake: FakeGoogleCalendar, tmp_path: Path, status: int, reason: str
) -> None:
    calendars = _calendars(fake, tmp_path)
    fake.fail_next(1, status, reason, retry_after=7)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(MARIA, _draft())
    assert refused.value.transient
    assert refused.value.retry_after == 7.0
    assert reason in refused.value.reason
    assert fake.events(MARIA) == []
    await calendars.put(MARIA, _draft())
    assert len(fake.events(MARIA)) == 1


async def test_a_rate_limit_in_googles_newer_error_shape_is_transient_too(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    # With ``details[]`` in the body the client keeps only those (``RATE_LIMIT_EXCEEDED``):
    # read as they are, a rate limit would be parked for good after one try.
    calendars = _calendars(fake, tmp_path)
    fake.fail_next(1, 403, "rateLimitExceeded", with_details=True)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(MARIA, _draft())

    assert refused.value.transient
    assert "rateLimitExceeded" in refused.value.reason


@pytest.mark.parametrize("access", [None, "missing"])
async def test_a_calendar_not_found_or_not_shared_is_not_transient(
    fake: FakeGoogleCalendar, tmp_path: Path, access: str | None
) -> None:
    calendar_id = "other@group.calendar.google.com"
    if access is None:
        fake.add_calendar(calendar_id, access=None)
    calendars = _calendars(fake, tmp_path)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(calendar_id, _draft())
    assert not refused.value.transient
    assert "not found or not shared" in refused.value.reason


async def test_read_only_share_is_not_transient(fake: FakeGoogleCalendar, tmp_path: Path) -> None:
    fake.add_calendar("ro@group.calendar.google.com", access="reader")
    calendars = _calendars(fake, tmp_path)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put("ro@group.calendar.google.com", _draft())
    assert not refused.value.transient
    assert "no permission" in refused.value.reason


async def test_a_timeout_after_google_applied_then_the_retry_finds_the_event(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path, timeout=0.5)
    fake.hang_after_apply(2.0)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(MARIA, _draft())
    assert refused.value.transient
    assert len(fake.events(MARIA)) == 1
    await calendars.put(MARIA, _draft(summary="Colour: Anna"))  # 409, then patch
    [event] = fake.events(MARIA)
    assert event["summary"] == "Colour: Anna"


async def test_the_fake_hangs_a_share_of_inserts_after_applying_them(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    calendars = _calendars(fake, tmp_path, timeout=0.3)
    fake.hang_share_of_inserts(1.0, 1.0)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(MARIA, _draft())
    assert refused.value.transient

    assert fake.inserts_hung == 1
    assert list(fake.inserted_at) == [event_id(41)]
    fake.hang_share_of_inserts(0.0, 1.0)
    await calendars.put(MARIA, _draft(summary="Colour: Anna"))  # 409, then patch
    assert list(fake.inserted_at) == [event_id(41)]  # applied once
    assert fake.inserts_hung == 1


async def test_a_key_the_token_endpoint_does_not_trust_is_refused(
    fake: FakeGoogleCalendar, tmp_path: Path
) -> None:
    other = FakeGoogleCalendar()
    info = other.service_account_info()  # a key this fake never saw
    info["token_uri"] = f"{fake.base_url}/token"
    calendars = GoogleCalendars(info, api_base=fake.base_url, timeout=5.0)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.put(MARIA, _draft())
    assert not refused.value.transient
    assert "PRIVATE KEY" not in refused.value.reason
    assert fake.events(MARIA) == []


async def test_check_says_ok_or_why_not(fake: FakeGoogleCalendar, tmp_path: Path) -> None:
    fake.add_calendar("ro@group.calendar.google.com", access="reader")
    calendars = _calendars(fake, tmp_path)
    assert await calendars.check(MARIA) is None
    assert fake.events(MARIA) == []
    ro = await calendars.check("ro@group.calendar.google.com")
    assert ro is not None
    assert ro.startswith("cannot write: no permission")
    missing = await calendars.check("nobody@group.calendar.google.com")
    assert missing is not None
    assert "not found or not shared" in missing


def test_a_key_file_that_is_no_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text('{"private_key": "-----BEGIN PRIVATE KEY-----secret"}')
    with pytest.raises(KeyFileError) as error:
        GoogleCalendars.from_key_file(key_file)
    assert "secret" not in str(error.value)
    with pytest.raises(KeyFileError):
        GoogleCalendars.from_key_file(tmp_path / "absent.json")
