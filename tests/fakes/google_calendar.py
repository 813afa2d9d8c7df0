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
  comes back with ``status: "cancelled"``), patch (fields merged), delete (204; deleted
  already: 410 ``deleted``; unknown: 404 ``notFound``), list (``items`` without deleted
  events unless ``showDeleted``; ``maxResults`` and ``pageToken`` paging).
- Knobs: :meth:`fail_next` answers the next N calendar calls with a status and reason
  (and ``Retry-After``) before doing anything; :meth:`hang_after_apply` makes the next
  write do its work, then sleep (past the client's timeout) before answering;
  :meth:`hang_share_of_inserts` does that to a share of all inserts (drawn at random).
- Records: ``inserted_at`` (each event id inserted, ``time.monotonic()`` when it was
  applied: a second insert of one id is a 409 and never recorded), for benchmarks.

Not modelled: sync tokens, watch channels, freeBusy, recurring events, attendees, ETag
preconditions, quotas beyond :meth:`fail_next`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.local_server import serve_on_loopback

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audience Google's token endpoint expects (google-auth always signs this one, whatever
# the key file's token_uri says).
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")


@dataclass
class _Calendar:
    calendar_id: str
    access: str | None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


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
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/token", self._token)
        app.router.add_route("*", "/calendar/v3/{tail:.*}", self._calendar_api)
        self._runner, self._port = await serve_on_loopback(app, shutdown_timeout=0.5)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    def add_calendar(self, calendar_id: str, *, access: str | None = "writer") -> None:
        """A calendar; ``access``: ``"writer"`` (shared "Make changes to events"),
        ``"reader"`` (shared read-only) or None (exists, not shared: 404 like unknown)."""
        self.calendars[calendar_id] = _Calendar(calendar_id, access)

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
            event_id = base64.b32hexencode(secrets.token_bytes(10)).decode().lower()
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
            raise _ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise _ApiError(409, "duplicate", "The requested identifier already exists.")
        for key in ("start", "end"):
            if not isinstance(body.get(key), dict):
                raise _ApiError(400, "required", f"Missing {key} time.")
        now = _now()
        event = {
            **body,
            "kind": "calendar#event",
            "id": event_id,
            "created": now,
            "updated": now,
            "etag": _etag(),
            "status": body.get("status", "confirmed"),
        }
        calendar.events[event_id] = event
        self.inserted_at[event_id] = time.monotonic()
        return web.json_response(event)

    def _patch(self, calendar: _Calendar, event_id: str, body: dict[str, Any]) -> web.Response:
        event = self._event(calendar, event_id)
        body.pop("id", None)
        event.update(body)
        event["updated"] = _now()
        event["etag"] = _etag()
        return web.json_response(event)

    def _delete(self, calendar: _Calendar, event_id: str) -> web.Response:
        event = self._event(calendar, event_id)
        if event["status"] == "cancelled":
            raise _ApiError(410, "deleted", "Resource has been deleted")
        event["status"] = "cancelled"
        event["updated"] = _now()
        return web.Response(status=204)

    def _list(self, calendar: _Calendar, request: web.Request) -> web.Response:
        show_deleted = request.query.get("showDeleted") == "true"
        try:
            size = min(int(request.query.get("maxResults", "250")), 2500)
            start = int(request.query.get("pageToken", "0"))
        except ValueError:
            raise _ApiError(400, "invalid", "Invalid value.") from None
        if size < 1 or start < 0:
            raise _ApiError(400, "invalid", "Invalid value.")
        events = [e for e in calendar.events.values() if show_deleted or e["status"] != "cancelled"]
        body: dict[str, Any] = {"kind": "calendar#events", "items": events[start : start + size]}
        if start + size < len(events):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)


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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _etag() -> str:
    return f'"{secrets.randbits(48)}"'
