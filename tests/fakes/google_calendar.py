"""A faithful fake of the Google Calendar API v3 and Google's OAuth2 token endpoint, for tests.

A real aiohttp server on 127.0.0.1 (ephemeral port). The real google-api-python-client talks
to it: its ``api_endpoint`` is ``{base_url}/calendar/v3/`` and the service-account key file
the fake makes (:meth:`FakeGoogleCalendar.service_account_info`) has ``token_uri`` at
``{base_url}/token``, so the whole OAuth2 JWT-bearer flow runs::

    async with FakeGoogleCalendar() as fake:
        fake.add_calendar("maria@group.calendar.google.com")
        info = fake.service_account_info()   # write it to a file for the adapter

Contract (shapes as in docs/platform-facts.md section C and Google's Calendar v3 docs):

- ``POST /token``: form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and
  ``assertion``, an RS256 JWT whose signature verifies with the public key of the service
  account named by ``iss``, ``aud`` Google's token URI (``TOKEN_AUDIENCE``), ``scope``
  naming the calendar scope, ``exp`` in the future. Accepted: ``{"access_token",
  "token_type": "Bearer", "expires_in": 3599}``; refused: 400 ``{"error": "invalid_grant",
  "error_description"}``.
- Every ``/calendar/v3/`` call needs ``Authorization: Bearer <issued token>``, else 401
  ``authError`` in Google's error JSON ``{"error": {"errors": [{"domain", "reason",
  "message"}], "code", "message"}}``.
- A calendar not added, or added unshared (``access=None``), answers 404 ``notFound``;
  shared read-only (``access="reader"``), writes answer 403 ``requiredAccessLevel``.
- ``calendars/{id}`` get; ``calendars/{id}/events`` insert (a client id must be base32hex,
  5..1024 characters, else 400 ``invalid``; an id already there, even deleted, 409
  ``duplicate``; ``start``/``end`` required, else 400 ``required``), get (a deleted event
  comes back with ``status: "cancelled"``), patch (merged as Google does: nested objects key
  by key, ``null`` clears a field, arrays replaced; a ``start``/``end`` left with both
  ``date`` and ``dateTime``, or neither, answers 400 ``invalid`` "Invalid start time."),
  delete (204; deleted
  already: 410 ``deleted``; unknown: 404 ``notFound``). Every write (and every owner-side
  change below) bumps the event's ``updated`` (RFC 3339, milliseconds, strictly
  increasing, on Google's :attr:`clock`) and ``etag``. A recurring event
  (``recurrence``: one ``RRULE``, the subset of ``tests.fakes.google_recurrence``) needs
  ``start.timeZone`` when timed, else 400.
- list (Google's ``events.list``):
  - a full read: ``timeMin``/``timeMax`` (RFC 3339 with an offset, else 400 ``invalid``;
    ``timeMin >= timeMax``: 400 ``timeRangeEmpty``) keep the events that overlap them
    (end after ``timeMin``, start before ``timeMax``; all-day dates in the calendar's
    ``time_zone``); deleted events only with ``showDeleted=true``;
  - ``singleEvents=true``: recurring events as their instances (ids
    ``{id}_{YYYYMMDDTHHMMSSZ}``, all-day ``{id}_{YYYYMMDD}``, with ``recurringEventId``
    and ``originalStartTime``), up to ``timeMax`` (without one, a year from now);
  - paging: ``maxResults`` (default 250, at most 2500; below 1: 400) items a page, a
    ``nextPageToken`` while more follow, and ``nextSyncToken`` on the last page only. A
    read is a snapshot taken at its first page: what changes while it pages comes with
    the next sync token;
  - ``syncToken``: what changed since that token's read: changed events as they are now
    (instances of a changed recurring event within the first read's
    ``timeMin``/``timeMax``), deleted ones as ``{"kind", "etag", "id", "status":
    "cancelled"}``; with ``showDeleted=true`` deleted ones keep their details,
    ``updated`` included (Google's events reference, ``status``: on the organizer's
    calendar a deleted event keeps its details, which incremental reads without
    ``showDeleted`` leave out). Instances a rule change removed come as deleted, id
    only. With ``timeMin``, ``timeMax``, ``updatedMin``, ``q``, ``iCalUID``,
    ``orderBy``, ``privateExtendedProperty``, ``sharedExtendedProperty`` or
    ``showDeleted=false``: 400
    ``syncTokenWithRequestRestrictions`` ("Sync token cannot be used with other request
    restrictions."; the message as users report it, the reason and domain less sure: no
    client branches on them). A token unknown, of another calendar, or expired
    (:meth:`expire_sync_tokens`): 410 ``fullSyncRequired``.
- Knobs: :meth:`fail_next` answers the next N calendar calls with a status and reason
  (and ``Retry-After``) before doing anything; :meth:`hang_after_apply` makes the next
  write do its work, then sleep (past the client's timeout) before answering;
  :meth:`hang_share_of_inserts` does that to a share of all inserts (drawn at random);
  :meth:`expire_sync_tokens`.
- Records: ``inserted_at`` (each event id inserted, ``time.monotonic()`` when it was
  applied: a second insert of one id is a 409 and never recorded), for benchmarks.
- The staff member in Google's own app: :meth:`owner_put`, :meth:`owner_move`,
  :meth:`owner_delete` change a calendar without HTTP (not in ``calls``).
- Every change of a calendar's events, through the API or the owner's, calls
  ``_changed(calendar_id)`` once, which tells each of ``_listeners`` (push notifications
  hang there).
- Push notifications (Google's push guide; ``docs/platform-facts.md`` C): ``POST
  calendars/{id}/events/watch`` with ``{"id", "type": "web_hook", "address", "token"?,
  "expiration"? (ms) or "params": {"ttl"? (s)}}`` needs read access (404 otherwise); ``id``
  1..64 of ``[A-Za-z0-9-_+/=]`` (else 400 ``invalid``), not the id of a live channel (400
  ``channelIdNotUnique``); ``type`` ``web_hook``/``webhook``; ``address`` must be
  ``https://`` (400 ``push.webhookUrlNotHttps``, as Google refuses plain HTTP); ``token``
  up to 256 characters. The channel lives until the requested expiry (default 604800 s,
  capped at :attr:`channel_lifetime_limit`: Google may shorten it; the answer says) by
  :attr:`clock`. Answer: ``{"kind": "api#channel", "id", "resourceId" (one per calendar),
  "resourceUri", "token"?, "expiration": "<ms>"}`` (int64 as a string, as Google sends it).
  The first notification (``X-Goog-Resource-State: sync``, message number 1) is sent at
  once, so it may arrive before the watch's answer (Google says so too;
  :attr:`sync_before_answer` makes it always do so: the answer waits for it); then every
  change to the calendar's events sends ``exists`` to each live channel, message numbers
  counting up (every change calls ``_changed(calendar_id)``, whose listeners include the
  channels'). A notification is a ``POST`` with no body and Google's headers
  (``X-Goog-Channel-ID``, ``-Token`` when one was given, ``-Expiration`` as an HTTP date,
  ``X-Goog-Resource-ID``, ``-URI``, ``-State``, ``X-Goog-Message-Number``), over HTTPS
  with certificate checks: the fake trusts the system's CAs and what :meth:`trust` adds
  (the tests' loopback certificate), nothing else. A 500/502/503/504 answer is retried
  with backoff (:attr:`redelivery_delays`); any other status is a failed message, not
  retried. Expired and stopped channels send nothing. ``POST channels/stop`` with ``{"id",
  "resourceId"}``: 204; a channel unknown, stopped, expired or of another resource: 404
  ``notFound``. :attr:`deliveries` records every attempt; :meth:`drain` waits for those
  in flight.

- Attendees are kept as given, each one's read-only ``self`` set by the fake: true on the
  entry whose ``email`` is the calendar's id ("represents the calendar on which this copy
  of the event appears"); no invitation is sent, no other calendar gets a copy.

Not modelled: freeBusy, a recurring event filtered by anything but its
first instance when listed without ``singleEvents``, a single instance of a recurring event changed
on its own (exceptions), ``EXDATE``, invitations, ETag preconditions, ``fields``, quotas
beyond :meth:`fail_next`, watch on other
resources (ACL, calendar list, settings), domain verification of the address.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import random
import re
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes import google_recurrence as recurrence
from tests.fakes.local_server import serve_on_loopback

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audience Google's token endpoint expects (google-auth always signs this one, whatever
# the key file's token_uri says).
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
_CHANNEL_ID = re.compile(r"[A-Za-z0-9\-_+/=]{1,64}")
DEFAULT_CHANNEL_SECONDS = 604800  # params.ttl's documented default: a week
_REDELIVER = frozenset({500, 502, 503, 504})  # Google's push guide: retried with backoff


@dataclass
class _Calendar:
    calendar_id: str
    access: str | None
    time_zone: str = "UTC"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The change log behind sync tokens: every change takes the next number; each event
    # (and each instance a rule change removed) keeps the number of its last change.
    changes: int = 0
    changed_at: dict[str, int] = field(default_factory=dict)
    removed_instances: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Read:
    """What a sync token or a page token stands for: a read of one calendar, the change
    number it saw, the span it asked for and whether it expanded recurring events."""

    calendar_id: str
    seen: int
    window: tuple[datetime | None, datetime | None]
    single: bool
    items: tuple[dict[str, Any], ...] = ()
    offset: int = 0


# Parameters Google refuses together with a syncToken (events.list reference).
_NOT_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "updatedMin",
    "q",
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
_PAGE_DEFAULT, _PAGE_MOST = 250, 2500
# Without timeMax, recurring events are expanded this far ahead.
_EXPAND_AHEAD = timedelta(days=366)


@dataclass
class _Channel:
    """A push channel (``events.watch``) as Google keeps it."""

    channel_id: str
    calendar_id: str
    resource_id: str
    address: str
    token: str | None
    expiration_ms: int
    messages: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver a notification: the receiver's status, or None when it could
    not be reached (refused connection, untrusted certificate, timeout: ``error`` says)."""

    channel_id: str
    state: str
    number: int
    status: int | None
    error: str = ""


@dataclass
class _Failure:
    status: int
    reason: str
    retry_after: int | None
    with_details: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, domain: str = "global"):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain
        self.retry_after: int | None = None
        self.with_details = False


class FakeGoogleCalendar:
    """The fake server; see the module docstring for the contract."""

    def __init__(self) -> None:
        self.calendars: dict[str, _Calendar] = {}
        self.calls: list[tuple[str, str]] = []
        self.tokens_issued = 0
        self._accounts: dict[str, rsa.RSAPublicKey] = {}
        self._tokens: set[str] = set()
        self._failures: list[_Failure] = []
        self._hang_seconds: float | None = None
        # A share of inserts hanging after they applied (``hang_share_of_inserts``).
        self._inserts_hang: tuple[float, float, random.Random] | None = None
        self.inserts_hung = 0
        self.inserted_at: dict[str, float] = {}
        self._sync_tokens: dict[str, _Read] = {}
        self._page_tokens: dict[str, _Read] = {}
        # Called with a calendar's id after every change of its events.
        self._listeners: list[Callable[[str], None]] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        # Push notifications (see the module docstring).
        self.channels: dict[str, _Channel] = {}
        self.deliveries: list[Delivery] = []
        # Google's clock (seconds): channels' expiry and events' ``updated``. Tests whose
        # salonbot runs on a fake clock give Google the same one, as NTP keeps the two close.
        self.clock: Callable[[], float] = time.time
        self._last_stamp = 0
        self.channel_lifetime_limit = float(DEFAULT_CHANNEL_SECONDS)
        self.redelivery_delays: tuple[float, ...] = (0.05, 0.2, 0.5)
        self.sync_before_answer = False
        self._resource_ids: dict[str, str] = {}
        self._tls = ssl.create_default_context()
        self._session: aiohttp.ClientSession | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._listeners.append(self._tell_channels)

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/token", self._token)
        app.router.add_route("*", "/calendar/v3/{tail:.*}", self._calendar_api)
        self._runner, self._port = await serve_on_loopback(app, shutdown_timeout=0.5)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the API is under ``/calendar/v3/``, tokens at ``/token``."""
        return f"http://127.0.0.1:{self._port}"

    # -- set-up and knobs ------------------------------------------------------------------

    def service_account_info(
        self, email: str = "salonbot@salon.iam.gserviceaccount.com"
    ) -> dict[str, str]:
        """A new service account the fake trusts: the key file's JSON, a fresh RSA key in it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._accounts[email] = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "salon",
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": email,
            "client_id": "1" * 21,
            "token_uri": f"{self.base_url}/token",
        }

    def add_calendar(
        self, calendar_id: str, *, access: str | None = "writer", time_zone: str = "UTC"
    ) -> None:
        """A calendar; ``access``: ``"writer"`` (shared "Make changes to events"),
        ``"reader"`` (shared read-only) or None (exists, not shared: 404 like unknown).
        Added again, it keeps its events and takes the new access."""
        known = self.calendars.get(calendar_id)
        if known is not None:
            known.access = access
            known.time_zone = time_zone
            return
        self.calendars[calendar_id] = _Calendar(calendar_id, access, time_zone)

    def fail_next(
        self,
        count: int,
        status: int,
        reason: str,
        *,
        retry_after: int | None = None,
        with_details: bool = False,
    ) -> None:
        """The next ``count`` calendar calls answer ``status``/``reason`` and change nothing.
        ``with_details``: the body also carries Google's newer ``status`` and
        ``details[]`` (an ``ErrorInfo`` whose reason is spelled ``RATE_LIMIT_EXCEEDED``)."""
        self._failures.extend(
            _Failure(status, reason, retry_after, with_details) for _ in range(count)
        )

    def hang_after_apply(self, seconds: float) -> None:
        """The next write is carried out, then its answer waits ``seconds``."""
        self._hang_seconds = seconds

    def hang_share_of_inserts(self, share: float, seconds: float, *, seed: int = 0) -> None:
        """From now on, each insert that applies hangs ``seconds`` before answering with
        probability ``share`` (a seeded draw: the same share in every run)."""
        self._inserts_hang = (share, seconds, random.Random(seed))

    def access_token(self) -> str:
        """A bearer token the API accepts, for tests that call it over plain HTTP."""
        token = "ya29." + secrets.token_urlsafe(32)
        self._tokens.add(token)
        return token

    def expire_sync_tokens(self, calendar_id: str) -> None:
        """Every sync token of the calendar given so far answers 410 ``fullSyncRequired``."""
        for token, read in list(self._sync_tokens.items()):
            if read.calendar_id == calendar_id:
                del self._sync_tokens[token]

    def owner_put(self, calendar_id: str, event: dict[str, Any]) -> str:
        """The calendar's owner adds an event in Google's own app (or replaces the one of
        that ``id``); its id (one is made when ``event`` has none)."""
        calendar = self.calendars[calendar_id]
        event_id = str(event.get("id") or _new_event_id())
        recurrence.check(event)
        before = calendar.events.get(event_id)
        stored = {
            **event,
            "kind": "calendar#event",
            "id": event_id,
            "created": before["created"] if before else self._stamp(),
            "status": event.get("status", "confirmed"),
        }
        self._store(calendar, stored)
        return event_id

    def owner_move(self, calendar_id: str, event_id: str, start: datetime, end: datetime) -> None:
        """The owner drags a timed event to ``start``-``end`` (its time zone kept)."""
        calendar = self.calendars[calendar_id]
        event = dict(calendar.events[event_id])
        event["start"] = {**event["start"], "dateTime": start.isoformat()}
        event["end"] = {**event["end"], "dateTime": end.isoformat()}
        self._store(calendar, event)

    def owner_delete(self, calendar_id: str, event_id: str) -> None:
        """The owner deletes an event (a recurring one: all its instances)."""
        calendar = self.calendars[calendar_id]
        self._store(calendar, {**calendar.events[event_id], "status": "cancelled"})

    def events(self, calendar_id: str, *, deleted: bool = False) -> list[dict[str, Any]]:
        """The events of a calendar (live ones only unless ``deleted``)."""
        return [
            event
            for event in self.calendars[calendar_id].events.values()
            if deleted or event["status"] != "cancelled"
        ]

    # -- OAuth2 ----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assertion = form.get("assertion")
        if form.get("grant_type") != JWT_BEARER or not isinstance(assertion, str):
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        why = self._refuse_assertion(assertion, TOKEN_AUDIENCE)
        if why is not None:
            return _oauth_error("invalid_grant", why)
        token = "ya29." + secrets.token_urlsafe(32)
        self._tokens.add(token)
        self.tokens_issued += 1
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": 3599}
        )

    def _refuse_assertion(self, assertion: str, audience: str) -> str | None:
        parts = assertion.split(".")
        if len(parts) != 3 or len(assertion) > 16384:
            return "Invalid JWT."
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, UnicodeDecodeError):
            return "Invalid JWT."
        if not isinstance(header, dict) or header.get("alg") != "RS256":
            return "Invalid JWT: only RS256."
        if not isinstance(claims, dict):
            return "Invalid JWT."
        public_key = self._accounts.get(str(claims.get("iss")))
        if public_key is None:
            return "Invalid JWT Signature."
        try:
            public_key.verify(
                signature,
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        now = time.time()
        if claims.get("aud") != audience:
            return "Invalid JWT: aud is not Google's token URI."
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        if CALENDAR_SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid JWT: the calendar scope is missing."
        return None

    # -- Calendar v3 -----------------------------------------------------------------------

    async def _calendar_api(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path))
        try:
            self._authorize(request)
            if self._failures:
                failure = self._failures.pop(0)
                error = _ApiError(
                    failure.status,
                    failure.reason,
                    _MESSAGES.get(failure.reason, "Backend Error"),
                    _DOMAINS.get(failure.reason, "global"),
                )
                error.retry_after = failure.retry_after
                error.with_details = failure.with_details
                raise error
            response = await self._route(request)
        except _ApiError as error:
            return _api_error(error)
        if request.method in ("POST", "PATCH", "DELETE") and self._hang_seconds is not None:
            seconds, self._hang_seconds = self._hang_seconds, None
            await asyncio.sleep(seconds)
        elif self._inserts_hang is not None and self._applied_insert(request, response):
            share, seconds, draw = self._inserts_hang
            if draw.random() < share:
                self.inserts_hung += 1
                await asyncio.sleep(seconds)
        return response

    @staticmethod
    def _applied_insert(request: web.Request, response: web.Response) -> bool:
        return (
            request.method == "POST" and request.path.endswith("/events") and response.status == 200
        )

    def _authorize(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self._tokens:
            raise _ApiError(401, "authError", "Invalid Credentials")

    async def _route(self, request: web.Request) -> web.Response:
        segments = request.match_info["tail"].split("/")
        if segments == ["channels", "stop"] and request.method == "POST":
            return self._stop(await _json_body(request))
        if len(segments) < 2 or segments[0] != "calendars" or not segments[1]:
            raise _ApiError(404, "notFound", "Not Found")
        calendar = self._calendar(segments[1])
        method = request.method
        if len(segments) == 2 and method == "GET":
            return web.json_response(
                {
                    "kind": "calendar#calendar",
                    "id": calendar.calendar_id,
                    "summary": calendar.calendar_id,
                    "timeZone": "UTC",
                }
            )
        if len(segments) == 3 and segments[2] == "events":
            if method == "POST":
                self._writable(calendar)
                return self._insert(calendar, await _json_body(request))
            if method == "GET":
                return self._list(calendar, request)
        if segments[2:] == ["events", "watch"] and method == "POST":
            return await self._watch(calendar, await _json_body(request))
        if len(segments) == 4 and segments[2] == "events":
            event_id = segments[3]
            if method == "GET":
                return web.json_response(self._event(calendar, event_id))
            self._writable(calendar)
            if method == "PATCH":
                return self._patch(calendar, event_id, await _json_body(request))
            if method == "DELETE":
                return self._delete(calendar, event_id)
        raise _ApiError(404, "notFound", "Not Found")

    def _calendar(self, calendar_id: str) -> _Calendar:
        calendar = self.calendars.get(calendar_id)
        if calendar is None or calendar.access is None:
            raise _ApiError(404, "notFound", "Not Found")
        return calendar

    @staticmethod
    def _writable(calendar: _Calendar) -> None:
        if calendar.access != "writer":
            raise _ApiError(
                403, "requiredAccessLevel", "You need to have writer access to this calendar."
            )

    @staticmethod
    def _event(calendar: _Calendar, event_id: str) -> dict[str, Any]:
        event = calendar.events.get(event_id)
        if event is None:
            raise _ApiError(404, "notFound", "Not Found")
        return event

    def _insert(self, calendar: _Calendar, body: dict[str, Any]) -> web.Response:
        event_id = body.get("id")
        if event_id is None:
            event_id = _new_event_id()
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
            raise _ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise _ApiError(409, "duplicate", "The requested identifier already exists.")
        for key in ("start", "end"):
            if not isinstance(body.get(key), dict):
                raise _ApiError(400, "required", f"Missing {key} time.")
        body = _merged({}, body)
        _check_times(body)
        _check_recurrence(body)
        event = {
            **body,
            "kind": "calendar#event",
            "id": event_id,
            "created": self._stamp(),
            "status": body.get("status", "confirmed"),
        }
        stored = self._store(calendar, event)
        self.inserted_at[event_id] = time.monotonic()
        return web.json_response(stored)

    def _patch(self, calendar: _Calendar, event_id: str, body: dict[str, Any]) -> web.Response:
        event = dict(self._event(calendar, event_id))
        body.pop("id", None)
        event = _merged(event, body)
        _check_times(event)
        _check_recurrence(event)
        return web.json_response(self._store(calendar, event))

    def _delete(self, calendar: _Calendar, event_id: str) -> web.Response:
        event = self._event(calendar, event_id)
        if event["status"] == "cancelled":
            raise _ApiError(410, "deleted", "Resource has been deleted")
        self._store(calendar, {**event, "status": "cancelled"})
        return web.Response(status=204)

    def _store(self, calendar: _Calendar, event: dict[str, Any]) -> dict[str, Any]:
        """Every change of an event goes through here: ``updated`` and ``etag`` bumped,
        the change numbered for sync tokens, instances a rule change removed noted as
        deleted, the listeners told."""
        event_id = event["id"]
        calendar.changes += 1
        before = calendar.events.get(event_id)
        if before is not None and recurrence.is_recurring(before):
            horizon = datetime.now(UTC) + _EXPAND_AHEAD
            after = set()
            if recurrence.is_recurring(event) and event["status"] != "cancelled":
                after = {i["id"] for i in recurrence.instances(event, horizon)}
            for instance in recurrence.instances(before, horizon):
                if instance["id"] not in after:
                    calendar.removed_instances[instance["id"]] = calendar.changes
        event["updated"] = self._stamp()
        event["etag"] = _etag()
        if isinstance(event.get("attendees"), list):
            # Read-only in Google: the entry of the calendar this copy of the event is on.
            event["attendees"] = [
                {**attendee, "self": attendee.get("email") == calendar.calendar_id}
                for attendee in event["attendees"]
                if isinstance(attendee, dict)
            ]
        calendar.events[event_id] = event
        calendar.changed_at[event_id] = calendar.changes
        self._changed(calendar.calendar_id)
        return event

    def _changed(self, calendar_id: str) -> None:
        for listener in self._listeners:
            listener(calendar_id)

    def _list(self, calendar: _Calendar, request: web.Request) -> web.Response:
        query = request.query
        try:
            size = min(int(query.get("maxResults", str(_PAGE_DEFAULT))), _PAGE_MOST)
        except ValueError:
            raise _ApiError(400, "invalid", "Invalid value for: maxResults") from None
        if size < 1:
            raise _ApiError(400, "invalid", "Invalid value for: maxResults")
        page_token = query.get("pageToken")
        if page_token is not None:
            read = self._page_tokens.get(page_token)
            if read is None or read.calendar_id != calendar.calendar_id:
                raise _ApiError(400, "invalid", "Invalid page token value.")
        else:
            read = self._first_page(calendar, query)
        end = read.offset + size
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar.calendar_id,
            "timeZone": calendar.time_zone,
            "items": list(read.items[read.offset : end]),
        }
        if end < len(read.items):
            token = secrets.token_urlsafe(16)
            self._page_tokens[token] = _Read(
                read.calendar_id, read.seen, read.window, read.single, read.items, end
            )
            body["nextPageToken"] = token
        else:
            token = secrets.token_urlsafe(16)
            self._sync_tokens[token] = _Read(read.calendar_id, read.seen, read.window, read.single)
            body["nextSyncToken"] = token
        return web.json_response(body)

    def _first_page(self, calendar: _Calendar, query: Any) -> _Read:
        single = query.get("singleEvents") == "true"
        sync_token = query.get("syncToken")
        if sync_token is not None:
            if any(name in query for name in _NOT_WITH_SYNC_TOKEN) or (
                query.get("showDeleted") == "false"
            ):
                raise _ApiError(
                    400,
                    "syncTokenWithRequestRestrictions",
                    "Sync token cannot be used with other request restrictions.",
                    "calendar",
                )
            since = self._sync_tokens.get(sync_token)
            if since is None or since.calendar_id != calendar.calendar_id:
                raise _ApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            details = query.get("showDeleted") == "true"
            changed = self._changed_since(calendar, since, single, details)
            return _Read(calendar.calendar_id, calendar.changes, since.window, single, changed)
        window = (_query_time(query, "timeMin"), _query_time(query, "timeMax"))
        if window[0] is not None and window[1] is not None and window[0] >= window[1]:
            raise _ApiError(400, "timeRangeEmpty", "The specified time range is empty.", "calendar")
        show_deleted = query.get("showDeleted") == "true"
        items: list[dict[str, Any]] = []
        for event in calendar.events.values():
            if event["status"] == "cancelled" and not show_deleted:
                continue
            items += [
                item
                for item in _as_listed(event, window, single)
                if _overlaps(item, window, calendar.time_zone)
            ]
        return _Read(calendar.calendar_id, calendar.changes, window, single, tuple(items))

    def _changed_since(
        self, calendar: _Calendar, since: _Read, single: bool, details: bool
    ) -> tuple[dict[str, Any], ...]:
        items: list[dict[str, Any]] = []
        for event_id, event in calendar.events.items():
            if calendar.changed_at[event_id] <= since.seen:
                continue
            listed = _as_listed(event, since.window, single)
            if recurrence.is_recurring(event) and single:
                listed = [i for i in listed if _overlaps(i, since.window, calendar.time_zone)]
            # Deleted: without showDeleted, as Google sends it, only its id is sure.
            gone = event["status"] == "cancelled" and not details
            items += [_deleted(i) if gone else i for i in listed]
        told = {item["id"] for item in items}
        for instance_id, change in calendar.removed_instances.items():
            if change > since.seen and instance_id not in told:
                items.append(_deleted({"id": instance_id}))
        return tuple(items)

    # -- push notifications (events.watch, channels.stop) ----------------------------------

    def trust(self, certificate_pem: str) -> None:
        """Deliver to HTTPS servers with this certificate too, as if a public CA had signed
        it (the tests' loopback certificate); nothing else untrusted is ever delivered to."""
        self._tls.load_verify_locations(cadata=certificate_pem)

    def live_channels(self, calendar_id: str) -> list[_Channel]:
        """The calendar's channels that have neither expired nor been stopped."""
        now = self._now_ms()
        return [
            channel
            for channel in self.channels.values()
            if channel.calendar_id == calendar_id and channel.expiration_ms > now
        ]

    def delivered(self, channel_id: str) -> list[Delivery]:
        """The attempts to deliver the channel's notifications, in order."""
        return [d for d in self.deliveries if d.channel_id == channel_id]

    async def drain(self) -> None:
        """Wait for the notifications in flight (redeliveries included)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _stamp(self) -> str:
        """Now on Google's clock (:attr:`clock`) as Google writes ``created`` and
        ``updated``: RFC 3339 UTC in milliseconds, never the same twice (two changes in
        one millisecond are a millisecond apart)."""
        millis = max(self._now_ms(), self._last_stamp + 1)
        self._last_stamp = millis
        moment = datetime.fromtimestamp(millis / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"

    async def _watch(self, calendar: _Calendar, body: dict[str, Any]) -> web.Response:
        channel_id, kind = body.get("id"), body.get("type")
        address, token = body.get("address"), body.get("token")
        if not isinstance(channel_id, str) or not _CHANNEL_ID.fullmatch(channel_id):
            raise _ApiError(400, "invalid", "Channel id must match [A-Za-z0-9\\-_\\+/=]+")
        if kind not in ("web_hook", "webhook"):
            raise _ApiError(400, "invalid", "Invalid value for: type")
        if not isinstance(address, str) or not address:
            raise _ApiError(400, "required", "Required: address")
        parts = urlsplit(address)
        if parts.scheme != "https":
            raise _ApiError(
                400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}"
            )
        if not parts.hostname:
            raise _ApiError(
                400, "push.webhookUrlNoHostOrAddress", "No host or address in WebHook callback"
            )
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            raise _ApiError(400, "invalid", "Invalid value for: token")
        now = self._now_ms()
        if (known := self.channels.get(channel_id)) is not None and known.expiration_ms > now:
            raise _ApiError(400, "channelIdNotUnique", "Channel id not unique")
        longest = now + int(self.channel_lifetime_limit * 1000)
        expiration = min(self._requested_expiration(body, now), longest)
        resource_id = self._resource_ids.setdefault(calendar.calendar_id, secrets.token_urlsafe(20))
        channel = _Channel(
            channel_id, calendar.calendar_id, resource_id, address, token, expiration
        )
        self.channels[channel_id] = channel
        # Google: the sync message may arrive even before the watch's answer.
        sync = self._send(channel, "sync")
        if self.sync_before_answer:
            await asyncio.shield(sync)
        answer = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": self._resource_uri(calendar.calendar_id),
            "expiration": str(expiration),
        }
        if token is not None:
            answer["token"] = token
        return web.json_response(answer)

    @staticmethod
    def _requested_expiration(body: dict[str, Any], now: int) -> int:
        params = body.get("params")
        ttl = params.get("ttl") if isinstance(params, dict) else None
        try:
            if ttl is not None:
                return now + int(str(ttl)) * 1000
            if body.get("expiration") is not None:
                return int(str(body["expiration"]))
        except ValueError:
            raise _ApiError(400, "invalid", "Invalid value for: expiration") from None
        return now + DEFAULT_CHANNEL_SECONDS * 1000

    def _stop(self, body: dict[str, Any]) -> web.Response:
        channel_id, resource_id = body.get("id"), body.get("resourceId")
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if (
            channel is None
            or channel.resource_id != resource_id
            or channel.expiration_ms <= self._now_ms()
        ):
            raise _ApiError(404, "notFound", f"Channel '{channel_id}' not found for project")
        del self.channels[channel.channel_id]
        return web.Response(status=204)

    def _resource_uri(self, calendar_id: str) -> str:
        quoted = quote(calendar_id, safe="")
        return f"{self.base_url}/calendar/v3/calendars/{quoted}/events?alt=json"

    def _tell_channels(self, calendar_id: str) -> None:
        """Something in the calendar's events changed: each live channel is told."""
        for channel in self.live_channels(calendar_id):
            self._send(channel, "exists")

    def _send(self, channel: _Channel, state: str) -> asyncio.Task[None]:
        channel.messages += 1
        task = asyncio.get_running_loop().create_task(
            self._deliver(channel, state, channel.messages)
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return task

    async def _deliver(self, channel: _Channel, state: str, number: int) -> None:
        headers = {
            "Content-Type": "application/json; utf-8",
            "X-Goog-Channel-ID": channel.channel_id,
            "X-Goog-Channel-Expiration": email.utils.formatdate(
                channel.expiration_ms / 1000, usegmt=True
            ),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": self._resource_uri(channel.calendar_id),
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        assert self._session is not None, "the fake is not running"
        for delay in (*self.redelivery_delays, None):
            try:
                async with self._session.post(
                    channel.address, data=b"", headers=headers, ssl=self._tls
                ) as answer:
                    await answer.read()
                    status: int | None = answer.status
                    error = ""
            except (aiohttp.ClientError, TimeoutError) as failure:
                status, error = None, type(failure).__name__
            self.deliveries.append(Delivery(channel.channel_id, state, number, status, error))
            if status not in _REDELIVER or delay is None:
                return
            await asyncio.sleep(delay)


def _as_listed(
    event: dict[str, Any], window: tuple[datetime | None, datetime | None], single: bool
) -> list[dict[str, Any]]:
    """The event as a list shows it: a recurring one as its instances when ``single``."""
    if single and recurrence.is_recurring(event):
        return recurrence.instances(event, window[1] or datetime.now(UTC) + _EXPAND_AHEAD)
    return [event]


def _merged(event: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` applied as Google's patch semantics do: nested objects merged key by key,
    a null clearing its field, any other value (arrays too) replacing what was there."""
    merged = dict(event)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            before = merged.get(key)
            merged[key] = _merged(before if isinstance(before, dict) else {}, value)
        else:
            merged[key] = value
    return merged


def _check_times(event: dict[str, Any]) -> None:
    """``start`` and ``end`` each carry exactly one of ``date`` and ``dateTime``: both is
    what a patch of a time onto an all-day event leaves without clearing ``date``, and
    Google answers 400 "Invalid start time." (as users report it; the end's message is
    assumed to follow suit)."""
    for key in ("start", "end"):
        when = event.get(key)
        if isinstance(when, dict) and ("date" in when) == ("dateTime" in when):
            raise _ApiError(400, "invalid", f"Invalid {key} time.")


def _new_event_id() -> str:
    return base64.b32hexencode(secrets.token_bytes(10)).decode().lower()


def _deleted(event: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "calendar#event", "etag": _etag(), "id": event["id"], "status": "cancelled"}


def _check_recurrence(event: dict[str, Any]) -> None:
    try:
        recurrence.check(event)
    except recurrence.RecurrenceError as error:
        raise _ApiError(400, "invalid", str(error)) from None


def _query_time(query: Any, name: str) -> datetime | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _ApiError(400, "badRequest", f"Bad Request: invalid {name}")
    return moment.astimezone(UTC)


def _span(event: dict[str, Any], time_zone: str) -> tuple[datetime, datetime] | None:
    """The event's start and end instants (all-day: midnights in ``time_zone``)."""
    start, end = event.get("start") or {}, event.get("end") or {}
    if "dateTime" in start and "dateTime" in end:
        return (
            datetime.fromisoformat(start["dateTime"]).astimezone(UTC),
            datetime.fromisoformat(end["dateTime"]).astimezone(UTC),
        )
    if "date" in start and "date" in end:
        zone = ZoneInfo(time_zone)
        first, last = date.fromisoformat(start["date"]), date.fromisoformat(end["date"])
        return (
            datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC),
            datetime(last.year, last.month, last.day, tzinfo=zone).astimezone(UTC),
        )
    return None


def _overlaps(
    event: dict[str, Any], window: tuple[datetime | None, datetime | None], time_zone: str
) -> bool:
    """Google's filter: the event ends after ``timeMin`` and starts before ``timeMax``."""
    span = _span(event, time_zone)
    if span is None:
        return True
    start, end = span
    return (window[0] is None or end > window[0]) and (window[1] is None or start < window[1])


_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "backendError": "Backend Error",
    "forbidden": "Forbidden",
    "notFound": "Not Found",
}
_DOMAINS = {"rateLimitExceeded": "usageLimits", "userRateLimitExceeded": "usageLimits"}


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _ApiError(400, "parseError", "Parse Error") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "parseError", "Parse Error")
    return body


_RPC_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}


def _api_error(error: _ApiError) -> web.Response:
    body = {
        "error": {
            "errors": [{"domain": error.domain, "reason": error.reason, "message": error.message}],
            "code": error.status,
            "message": error.message,
        }
    }
    if error.with_details:
        body["error"]["status"] = _RPC_STATUS.get(error.status, "UNKNOWN")
        body["error"]["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": re.sub(r"(?<!^)(?=[A-Z])", "_", error.reason).upper(),
                "domain": "googleapis.com",
                "metadata": {"service": "calendar-json.googleapis.com"},
            }
        ]
    headers = {} if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return web.json_response(body, status=error.status, headers=headers)


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _etag() -> str:
    return f'"{secrets.randbits(48)}"'
