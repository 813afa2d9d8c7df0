"""``GoogleCalendars``: the ``LinkedCalendars`` port over google-api-python-client.

The client library is synchronous (httplib2), so each call runs in a thread, at most
``concurrency`` at once, each on an authorized ``httplib2.Http`` of its own (an ``Http``
is not thread-safe) with a socket timeout. No retries here: a transient refusal goes back
to the caller, whose durable queue tries again later with the same event id.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build

from adapters.google_calendar.event_pages import PAGE_SIZE, event_page
from adapters.google_calendar.refusals import HttpRefused, refusal
from core.linked_calendars.ports import (
    CalendarRefused,
    EventDraft,
    EventPage,
    SyncExpired,
    WatchChannel,
)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
_KEY_FIELDS = ("client_email", "private_key", "token_uri")
_KEY_FILE_LIMIT = 64 * 1024

T = TypeVar("T")


class KeyFileError(ValueError):
    """The service account key file cannot be used (the message never quotes it)."""


def read_key_file(path: Path) -> dict[str, Any]:
    """The service account key's JSON, checked for the fields the OAuth flow needs."""
    try:
        with path.open("rb") as file:
            raw = file.read(_KEY_FILE_LIMIT + 1)
    except OSError as error:
        raise KeyFileError(f"cannot read the service account key file ({error.strerror})") from None
    if len(raw) > _KEY_FILE_LIMIT:
        raise KeyFileError("the service account key file is too large to be a key")
    try:
        info = json.loads(raw)
    except ValueError:
        raise KeyFileError("the service account key file is not JSON") from None
    if not isinstance(info, dict) or any(
        not isinstance(info.get(name), str) or not info[name] for name in _KEY_FIELDS
    ):
        raise KeyFileError(
            "the service account key file is not a service account key "
            "(needs client_email, private_key and token_uri)"
        )
    return info


class GoogleCalendars:
    """Staff members' Google Calendars, written as the salon's service account."""

    def __init__(
        self,
        key: Mapping[str, Any],
        *,
        api_base: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 4,
    ) -> None:
        try:
            credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                dict(key), scopes=[CALENDAR_SCOPE]
            )
        except (ValueError, KeyError):
            raise KeyFileError("the service account key cannot be loaded") from None
        self._limit = asyncio.Semaphore(concurrency)
        self._https: queue.SimpleQueue[google_auth_httplib2.AuthorizedHttp] = queue.SimpleQueue()
        for _ in range(concurrency):
            self._https.put(
                google_auth_httplib2.AuthorizedHttp(
                    credentials, http=httplib2.Http(timeout=timeout)
                )
            )
        options = None if api_base is None else {"api_endpoint": f"{api_base}/calendar/v3/"}
        # static_discovery: the bundled calendar.v3.json, no network at start.
        self._service = build(
            "calendar",
            "v3",
            http=httplib2.Http(timeout=timeout),
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )

    @classmethod
    def from_key_file(cls, path: Path, **kwargs: Any) -> GoogleCalendars:
        return cls(read_key_file(path), **kwargs)

    async def put(self, calendar_id: str, event: EventDraft) -> None:
        body = _event_body(event)
        events = self._service.events()
        try:
            await self._run(events.insert(calendarId=calendar_id, body=body).execute)
        except HttpRefused as refused:
            if refused.status != 409:
                raise
            await self._run(
                events.patch(
                    calendarId=calendar_id, eventId=event.event_id, body=_patch_body(body)
                ).execute
            )

    async def remove(self, calendar_id: str, event_id: str) -> None:
        """Gone: deleted now, deleted before (410), or never there (404), but only when
        the calendar itself answers: Google says 404 ``notFound`` for a calendar that is
        gone or no longer shared too, and that remove is not done (its refusal is raised)."""
        request = self._service.events().delete(calendarId=calendar_id, eventId=event_id)
        try:
            await self._run(request.execute)
        except HttpRefused as refused:
            if refused.status == 404:
                await self._run(self._service.calendars().get(calendarId=calendar_id).execute)
            elif refused.status != 410:
                raise

    async def check(self, calendar_id: str) -> str | None:
        try:
            await self._run(self._service.calendars().get(calendarId=calendar_id).execute)
        except CalendarRefused as refused:
            return refused.reason
        probe = self._service.events()
        body = {
            "summary": "salonbot check",
            "start": {"dateTime": "2000-01-01T00:00:00Z"},
            "end": {"dateTime": "2000-01-01T00:01:00Z"},
            "transparency": "transparent",
        }
        try:
            created = await self._run(probe.insert(calendarId=calendar_id, body=body).execute)
            await self._run(
                probe.delete(calendarId=calendar_id, eventId=str(created["id"])).execute
            )
        except CalendarRefused as refused:
            return f"cannot write: {refused.reason}"
        return None

    async def changes(
        self,
        calendar_id: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        window: tuple[datetime, datetime],
    ) -> EventPage:
        # singleEvents: recurring events come as their instances. showDeleted: deleted
        # events come with their details (``updated`` above all, which tells a deletion
        # from a stale echo); without it an incremental read gives a deleted event's id
        # alone. Google wants a sync token's reads asked as its full read was (timeMin and
        # timeMax aside, which it refuses then), so both send the same.
        query: dict[str, Any] = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "showDeleted": True,
            "maxResults": PAGE_SIZE,
        }
        if sync_token is not None:
            query["syncToken"] = sync_token
        else:
            query["timeMin"] = _rfc3339(window[0])
            query["timeMax"] = _rfc3339(window[1], round_up=True)
        if page_token is not None:
            query["pageToken"] = page_token
        request = self._service.events().list(**query)
        try:
            body = await self._run(request.execute)
        except HttpRefused as refused:
            # 410: the token expired (fullSyncRequired), or Google forgot it (gone).
            if refused.status == 410 and sync_token is not None:
                raise SyncExpired(refused.reason) from None
            raise
        return event_page(body)

    async def _run(self, execute: Callable[..., T]) -> T:
        async with self._limit:
            return await asyncio.to_thread(self._call, execute)

    def _call(self, execute: Callable[..., T]) -> T:
        http = self._https.get()
        try:
            return execute(http=http)
        except Exception as error:  # refusal() re-raises what it does not know
            raise refusal(error) from None
        finally:
            self._https.put(http)

    # -- push channels (events.watch, channels.stop) --------------------------------------

    async def watch(
        self, calendar_id: str, *, channel_id: str, address: str, token: str, expires_at: datetime
    ) -> WatchChannel:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "expiration": str(_milliseconds(expires_at)),
        }
        request = self._service.events().watch(calendarId=calendar_id, body=body)
        answer = await self._run(request.execute)
        resource_id = answer.get("resourceId") if isinstance(answer, dict) else None
        if not isinstance(resource_id, str) or not resource_id:
            raise CalendarRefused("Google's answer to watch names no resource", transient=True)
        expiration = _instant(answer.get("expiration"))
        return WatchChannel(channel_id, resource_id, expiration or expires_at)

    async def stop_watch(self, channel_id: str, resource_id: str) -> None:
        body = {"id": channel_id, "resourceId": resource_id}
        try:
            await self._run(self._service.channels().stop(body=body).execute)
        except HttpRefused as refused:
            if refused.status != 404:  # unknown to Google: stopped or expired already
                raise


def _rfc3339(moment: datetime, *, round_up: bool = False) -> str:
    """``moment`` in UTC to the second (``...Z``); ``round_up``: not before it."""
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_body(event: EventDraft) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "summary": event.summary,
        "description": event.description,
        "start": {"dateTime": event.start.isoformat(), "timeZone": event.time_zone},
        "end": {"dateTime": event.end.isoformat(), "timeZone": event.time_zone},
        # A patch after a delete brings the event back rather than leaving it cancelled.
        "status": "confirmed",
        "extendedProperties": {"private": {"salonbotBookingId": str(event.booking_id)}},
    }


def _patch_body(body: dict[str, Any]) -> dict[str, Any]:
    """The put's body as a patch of the event already there. A patch merges nested
    objects (``start``/``end`` too): an explicit null clears the ``date`` the staff member
    may have left by making the event all-day, which Google would otherwise keep beside
    the ``dateTime`` and refuse (400 "Invalid start time."). An array replaces the one
    there: an empty ``recurrence`` makes an event the staff member made recurring a single
    event again (its instances are deleted)."""
    patch = {key: value for key, value in body.items() if key != "id"}
    for key in ("start", "end"):
        patch[key] = {**patch[key], "date": None}
    patch["recurrence"] = []
    return patch


def _milliseconds(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _instant(milliseconds: object) -> datetime | None:
    """A channel's ``expiration`` (Unix milliseconds, int64 sent as a string) in UTC; None
    when absent or unreadable."""
    try:
        value = int(str(milliseconds))
        return datetime.fromtimestamp(value / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
