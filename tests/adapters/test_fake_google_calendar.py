"""The fake Calendar API's own contract, where it is not trivial: ``events.list`` with
sync tokens and the parameters Google refuses with them, paging as a snapshot, recurring
events expanded on the wall clock across DST, a rule change removing instances, and the
owner's changes that bypass HTTP. Called over plain HTTP, as Google is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.fakes.google_calendar import FakeGoogleCalendar

MARIA = "maria@group.calendar.google.com"
BERLIN = "Europe/Berlin"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        yield server


async def list_events(fake: FakeGoogleCalendar, **query: str) -> tuple[int, dict[str, Any]]:
    url = f"{fake.base_url}/calendar/v3/calendars/{MARIA}/events"
    headers = {"Authorization": f"Bearer {fake.access_token()}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params=query, headers=headers) as response,
    ):
        return response.status, await response.json()


def weekly_at_nine(count: int) -> dict[str, Any]:
    """Saturdays 09:00-10:00 in Berlin from 2027-03-20, over the change to summer time."""
    return {
        "start": {"dateTime": "2027-03-20T09:00:00+01:00", "timeZone": BERLIN},
        "end": {"dateTime": "2027-03-20T10:00:00+01:00", "timeZone": BERLIN},
        "recurrence": [f"RRULE:FREQ=WEEKLY;BYDAY=SA;COUNT={count}"],
    }


async def test_instances_keep_their_wall_clock_time_across_dst(fake: FakeGoogleCalendar) -> None:
    weekly = fake.owner_put(MARIA, weekly_at_nine(3))

    status, body = await list_events(fake, singleEvents="true")

    assert status == 200
    assert [item["id"] for item in body["items"]] == [
        f"{weekly}_20270320T080000Z",
        f"{weekly}_20270327T080000Z",
        f"{weekly}_20270403T070000Z",  # 09:00 in summer time
    ]
    last = body["items"][2]
    assert last["start"] == {"dateTime": "2027-04-03T09:00:00+02:00", "timeZone": BERLIN}
    assert last["recurringEventId"] == weekly
    assert last["originalStartTime"]["dateTime"] == "2027-04-03T09:00:00+02:00"
    assert "recurrence" not in last
    # Without singleEvents, the recurring event itself.
    _, body = await list_events(fake)
    assert [item["id"] for item in body["items"]] == [weekly]


async def test_daily_until_and_all_day_instances(fake: FakeGoogleCalendar) -> None:
    daily = fake.owner_put(
        MARIA,
        {
            "start": {"date": "2027-01-04"},
            "end": {"date": "2027-01-05"},
            "recurrence": ["RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20270108"],
        },
    )
    _, body = await list_events(fake, singleEvents="true")
    assert [item["id"] for item in body["items"]] == [
        f"{daily}_20270104",
        f"{daily}_20270106",
        f"{daily}_20270108",
    ]
    assert body["items"][1]["end"] == {"date": "2027-01-07"}


async def test_time_min_and_max_keep_what_overlaps(fake: FakeGoogleCalendar) -> None:
    weekly = fake.owner_put(MARIA, weekly_at_nine(10))
    _, body = await list_events(
        fake,
        singleEvents="true",
        timeMin="2027-03-27T08:30:00Z",  # inside the second instance
        timeMax="2027-04-03T07:00:00Z",  # the third starts right then: left out
    )
    assert [item["id"] for item in body["items"]] == [f"{weekly}_20270327T080000Z"]

    status, body = await list_events(
        fake, timeMin="2027-04-03T07:00:00Z", timeMax="2027-04-03T07:00:00Z"
    )
    assert (status, body["error"]["errors"][0]["reason"]) == (400, "timeRangeEmpty")
    status, body = await list_events(fake, timeMin="2027-04-03T07:00:00")
    assert status == 400


async def test_a_sync_token_refuses_other_restrictions_and_expires(
    fake: FakeGoogleCalendar,
) -> None:
    fake.owner_put(MARIA, weekly_at_nine(2))
    _, body = await list_events(fake, singleEvents="true")
    token = body["nextSyncToken"]

    for refused in ({"timeMin": "2027-01-01T00:00:00Z"}, {"showDeleted": "false"}):
        status, body = await list_events(fake, syncToken=token, **refused)
        assert status == 400
        assert body["error"]["message"] == (
            "Sync token cannot be used with other request restrictions."
        )

    fake.expire_sync_tokens(MARIA)
    status, body = await list_events(fake, syncToken=token)
    assert status == 410
    assert body == {
        "error": {
            "errors": [
                {
                    "domain": "global",
                    "reason": "fullSyncRequired",
                    "message": "Sync token is no longer valid, a full sync is required.",
                }
            ],
            "code": 410,
            "message": "Sync token is no longer valid, a full sync is required.",
        }
    }


async def test_a_rule_cut_short_lists_the_lost_instances_as_deleted(
    fake: FakeGoogleCalendar,
) -> None:
    weekly = fake.owner_put(MARIA, weekly_at_nine(3))
    _, body = await list_events(fake, singleEvents="true")
    token = body["nextSyncToken"]

    fake.owner_put(MARIA, {**weekly_at_nine(1), "id": weekly})
    _, body = await list_events(fake, singleEvents="true", syncToken=token)

    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[f"{weekly}_20270320T080000Z"]["status"] == "confirmed"
    for lost in ("20270327T080000Z", "20270403T070000Z"):
        assert by_id[f"{weekly}_{lost}"] == {
            "kind": "calendar#event",
            "etag": by_id[f"{weekly}_{lost}"]["etag"],
            "id": f"{weekly}_{lost}",
            "status": "cancelled",
        }


async def test_paging_is_a_snapshot_and_changes_meanwhile_come_with_the_next_token(
    fake: FakeGoogleCalendar,
) -> None:
    start = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    for hour in range(3):
        fake.owner_put(
            MARIA,
            {
                "start": {"dateTime": (start + timedelta(hours=hour)).isoformat()},
                "end": {"dateTime": (start + timedelta(hours=hour, minutes=30)).isoformat()},
            },
        )
    _, first = await list_events(fake, maxResults="2")
    assert (len(first["items"]), "nextSyncToken" in first) == (2, False)
    added = fake.owner_put(MARIA, {"start": {"date": "2027-01-05"}, "end": {"date": "2027-01-06"}})

    _, last = await list_events(fake, maxResults="2", pageToken=first["nextPageToken"])
    assert (len(last["items"]), "nextPageToken" in last) == (1, False)
    _, since = await list_events(fake, syncToken=last["nextSyncToken"])
    assert [item["id"] for item in since["items"]] == [added]


async def test_owner_changes_bypass_http_and_bump_updated(fake: FakeGoogleCalendar) -> None:
    told: list[str] = []
    fake._listeners.append(told.append)
    event_id = fake.owner_put(MARIA, weekly_at_nine(1))
    before = fake.events(MARIA)[0]["updated"]
    fake.owner_move(
        MARIA,
        event_id,
        datetime(2027, 3, 20, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 20, 10, 0, tzinfo=UTC),
    )
    fake.owner_delete(MARIA, event_id)

    [event] = fake.events(MARIA, deleted=True)
    assert event["status"] == "cancelled"
    assert event["updated"] > before
    assert event["start"]["timeZone"] == BERLIN
    assert fake.calls == []
    assert told == [MARIA] * 3


async def test_a_deleted_event_keeps_its_details_only_when_show_deleted_is_asked(
    fake: FakeGoogleCalendar,
) -> None:
    """Google: deleted events are only sure to have their id, but on the organizer's
    calendar they keep their details, which incremental reads without ``showDeleted``
    leave out; a full read lists deleted events only with ``showDeleted``."""
    dentist = fake.owner_put(
        MARIA,
        {
            "summary": "Dentist",
            "start": {"dateTime": "2027-01-04T09:00:00+01:00"},
            "end": {"dateTime": "2027-01-04T10:00:00+01:00"},
        },
    )
    _, plain = await list_events(fake)
    _, shown = await list_events(fake, showDeleted="true")
    fake.owner_delete(MARIA, dentist)
    [stored] = fake.events(MARIA, deleted=True)

    _, since = await list_events(fake, syncToken=plain["nextSyncToken"])
    [bare] = since["items"]
    assert bare == {"kind": "calendar#event", "etag": bare["etag"], "id": dentist,
                    "status": "cancelled"}  # fmt: skip
    _, since = await list_events(fake, syncToken=shown["nextSyncToken"], showDeleted="true")
    [detailed] = since["items"]
    assert detailed["status"] == "cancelled"
    assert (detailed["updated"], detailed["start"]) == (stored["updated"], stored["start"])

    _, full = await list_events(fake)
    assert full["items"] == []
    _, full = await list_events(fake, showDeleted="true")
    assert [item["id"] for item in full["items"]] == [dentist]


async def test_an_attendee_is_self_only_on_the_calendar_of_its_own_email(
    fake: FakeGoogleCalendar,
) -> None:
    fake.owner_put(
        MARIA,
        {
            "start": {"dateTime": "2027-01-04T09:00:00+01:00"},
            "end": {"dateTime": "2027-01-04T10:00:00+01:00"},
            "attendees": [
                {"email": "boss@salon.test", "self": True, "responseStatus": "accepted"},
                {"email": MARIA, "responseStatus": "declined"},
            ],
        },
    )

    _, body = await list_events(fake)

    [event] = body["items"]
    assert [(a["email"], a["self"]) for a in event["attendees"]] == [
        ("boss@salon.test", False),
        (MARIA, True),
    ]


async def test_updated_is_stamped_on_googles_clock(fake: FakeGoogleCalendar) -> None:
    """salonbot compares ``updated`` with its own clock (``CalendarEdits``): a test that
    runs salonbot on a fake clock gives Google the same one."""
    fake.clock = lambda: datetime(2026, 12, 7, 9, 30, tzinfo=UTC).timestamp()
    first = fake.owner_put(MARIA, weekly_at_nine(1))
    second = fake.owner_put(MARIA, weekly_at_nine(1))

    stamps = {event["id"]: event["updated"] for event in fake.events(MARIA)}
    assert stamps[first].startswith("2026-12-07T09:30:00.00")
    assert stamps[second] > stamps[first]  # never the same twice
