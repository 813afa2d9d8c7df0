"""A faithful fake of the WhatsApp Cloud API (Graph API ``/messages``), for tests.

The fake is a real aiohttp server on 127.0.0.1 (ephemeral port). A client posts to it with a
real ``httpx.AsyncClient``::

    async with FakeWhatsApp(webhook_url=our_route) as fake:
        await http.post(
            f"{fake.base_url}/{fake.phone_number_id}/messages",
            headers={"Authorization": f"Bearer {fake.token}"},
            json={"messaging_product": "whatsapp", "to": "15551234567", "type": "text",
                  "text": {"body": "Hi"}},
        )

Contract (shapes as in docs/platform-facts.md section B and Meta's Cloud API docs):

- ``base_url`` is ``http://127.0.0.1:<port>/<version>``; the endpoints are
  ``POST {base_url}/{phone_number_id}/messages`` and ``GET {base_url}/{phone_number_id}``
  (the number itself, what ``salonbot doctor`` asks). Any other path or method answers 400
  code 100 ``GraphMethodException`` ("Unsupported ... request"), as Graph does.
- ``GET {base_url}/{phone_number_id}``: the token first (wrong or missing: 401 code 190;
  after :meth:`expire_token`: 401 code 190 "Error validating access token: Session has
  expired ..."), then the id (another: 400 code 100 unsupported get request), then
  ``?fields=`` (comma-separated; a field the node does not have: 400 code 100 "(#100)
  Tried accessing nonexisting field (x) on node type (WhatsAppBusinessPhoneNumber)").
  Without ``fields``: ``verified_name``, ``code_verification_status``,
  ``display_phone_number`` (formatted, ``+1 555-078-3881``), ``quality_rating``,
  ``platform_type``, ``throughput`` and ``id``; ``id`` always comes.
- Every error is ``{"error": {"message", "type", "code", "error_data": {"messaging_product":
  "whatsapp", "details"}, "fbtrace_id"}}`` (``fbtrace_id`` random; the deprecated
  ``error_subcode`` is left out). WhatsApp-specific codes carry Graph's ``(#code)`` prefix in
  ``message`` (``"(#131009) Parameter value is not valid"``); branch on ``code``.
- A send goes through, in order: the token (``Authorization: Bearer`` or ``?access_token=``;
  wrong or missing: 401 code 190), the phone number id (400 code 100), :meth:`slow`,
  injected faults (:meth:`fail_next`: 5xx code 1 or 2), the body (a missing
  ``messaging_product``/``to``: 400 code 100 ``The parameter X is required.``; any
  other invalid value or exceeded limit: 400 code 131009 with ``details`` naming it;
  ``type`` defaults to ``text``, as on Graph), the
  24-hour window (:meth:`close_window`: non-template 400 code 131047), throughput (token bucket
  of ``throughput_per_second``, burst the same: 400 code 130429), then the pair rate (token
  bucket per recipient, ``pair_burst`` at once then one per ``pair_limit_seconds``: 400 code
  131056). Only an accepted send takes rate tokens and lands in :attr:`FakeWhatsApp.sent`.
- Accepted: ``{"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": digits of
  to}], "messages": [{"id": "wamid.<unique>"}]}``; a template adds ``"message_status":
  "accepted"``. Accepted means accepted, not delivered.
- Message types: ``text``, ``interactive`` (``button`` and ``list``, with Meta's limits) and
  ``template``. A template must be approved first (:meth:`approve_template`: name, language,
  how many body parameters, the quick-reply buttons' labels); any other name or language
  answers 404 code 132001. Its ``components`` are checked as Meta does: at most one
  ``header`` and one ``body``, whose ``parameters`` are ``{"type": "text", "text": ...}``
  (not empty; a newline, a tab or more than 4 spaces in a row: 400 code 100 "Param text
  cannot have new-line/tab characters or more than 4 consecutive spaces"); as many body
  parameters as the template has variables (else 400 code 132000); ``button`` components
  ``{"type": "button", "sub_type": "quick_reply", "index": "<0-9>", "parameters": [{"type":
  "payload", "payload": ...}]}``, one per index, naming a button the template has (else 400
  code 131009). Other parameter and button kinds are not modelled (400 code 131009).
  :meth:`quick_reply` builds the customer's tap on a template's quick-reply button: an
  inbound ``button`` message carrying the payload sent with it.
- Status webhooks: with ``webhook_url`` set and ``auto_statuses`` on, each accepted send is
  followed by signed ``sent`` then ``delivered`` status POSTs, in a background task (the send's
  answer never waits for them). :meth:`read`, :meth:`fail_delivery` and :meth:`send_status`
  post more; statuses of one wamid are posted in the order asked. :meth:`drain` waits for
  pending callbacks; leaving the ``async with`` drains too. Callbacks are not retried; each is
  recorded in :attr:`FakeWhatsApp.statuses_sent` with the receiver's HTTP status.
- Webhook bodies are compact JSON with non-ASCII escaped (``\\u00e9``) as Meta sends them,
  signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``.
- Inbound builders (:meth:`text_message`, :meth:`button_reply`, :meth:`list_reply`,
  :meth:`unsupported`) return one message dict and reopen that customer's 24-hour window, as a
  customer's message does; :meth:`group_message`, :meth:`revoke` and :meth:`edit` build the
  group, deletion and edit shapes. :meth:`envelope` wraps messages in the webhook body;
  :meth:`deliver` posts a body signed to ``webhook_url``.
- Usernames: every message carries the customer's BSUID (``from_user_id``) next to their
  number (``from``), and every contact entry names it (``user_id``); after
  :meth:`hide_number` their messages carry only ``from_user_id``. A send names the customer
  by number in ``to`` or by BSUID in ``recipient`` (:data:`BSUID`); ``to`` wins when a body
  has both. Either way it is one customer (one window, one pair-rate bucket,
  :meth:`FakeWhatsApp.messages_to` by either id). Statuses of a send to a number say
  ``recipient_id`` and, for ``sent``/``delivered``/``read`` (not ``failed``), also
  ``recipient_user_id``; statuses of a send to a BSUID say only ``recipient_user_id``.

Not modelled: media, reactions, locations and other outgoing types, template categories,
the ``conversation`` object of statuses, webhook retries and duplicates (post a body twice
with :meth:`deliver`), the management endpoints but the phone number's GET, the real
24-hour clock (windows change only through :meth:`close_window`/:meth:`open_window` and
inbound builders).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
from aiohttp import web

from tests.fakes.local_server import serve_on_loopback

DEFAULT_TOKEN = "test-token"
DEFAULT_PHONE_NUMBER_ID = "1234567890"
DEFAULT_APP_SECRET = "test-app-secret"
DEFAULT_VERSION = "v21.0"
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_DISPLAY_PHONE_NUMBER = "15550783881"
DEFAULT_VERIFIED_NAME = "Studio Lumen"
# The fields a phone number node has (the WhatsApp Business Management API's reference),
# and those a GET without ``fields`` returns.
PHONE_NUMBER_FIELDS = frozenset(
    {
        "id",
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
        "name_status",
        "messaging_limit_tier",
        "account_mode",
        "is_official_business_account",
    }
)
DEFAULT_PHONE_NUMBER_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "id",
)
EXPIRED_TOKEN = (
    "Error validating access token: Session has expired on Tuesday, 01-Dec-26 09:00:00 PST."
    " The current time is Wednesday, 02-Dec-26 10:00:00 PST."
)

MAX_TEXT_BODY = 4096
MAX_BUTTON_BODY = 1024
MAX_LIST_BODY = 4096
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_SECTION_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72

MAX_TEMPLATE_NAME = 512
MAX_TEMPLATE_HEADER_PARAMETER = 60
MAX_TEMPLATE_BODY_PARAMETER = 1024  # a template's whole body is at most 1,024 characters
MAX_TEMPLATE_BUTTONS = 10
# Unconfirmed: Meta's reference names no limit for a quick reply's payload; taken as the
# reply button id's. salonbot's payloads are choice ids, at most 64 bytes.
MAX_QUICK_REPLY_PAYLOAD = 256

ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
INVALID_TOKEN = "Invalid OAuth access token - Cannot parse access token"
PARAMETER_NOT_VALID = "Parameter value is not valid"
RE_ENGAGEMENT = "Re-engagement message"
RE_ENGAGEMENT_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)
PAIR_RATE_LIMIT = "(Business Account, Consumer Account) pair rate limit hit"
TEMPLATE_MISSING = "Template name does not exist in the translation"
PARAMETER_COUNT = "Number of parameters does not match the expected number of params"
PARAMETER_TEXT = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
THROUGHPUT_LIMIT = "Rate limit hit"

# Titles and details of delivery failures (failed status webhooks), by code.
DELIVERY_ERRORS: dict[int, tuple[str, str]] = {
    131047: (RE_ENGAGEMENT, RE_ENGAGEMENT_DETAILS),
    131026: (
        "Message undeliverable",
        "Message Undeliverable.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "User has stopped marketing messages",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business.",
    ),
    131000: ("Something went wrong", "Something went wrong."),
}

# A business-scoped user id: an ISO country code, a dot (``ENT.`` for a parent BSUID), then
# up to 128 letters and digits ("Business-scoped user IDs", developers.facebook.com/
# documentation/business-messaging/whatsapp/business-scoped-user-ids). A send names it in
# ``recipient`` instead of ``to``; when a body has both, ``to`` is used.
BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")

UNSUPPORTED_KINDS = frozenset(
    {"image", "audio", "video", "document", "sticker", "location", "contacts", "reaction"}
)


@dataclass(frozen=True)
class SentMessage:
    """One accepted send: the recipient's wa_id, the message type, the request body as posted,
    the wamid the fake gave it and when (the fake's ``clock``)."""

    to: str
    type: str
    payload: dict[str, Any]
    wamid: str
    at: float

    @property
    def body(self) -> str | None:
        """The text a customer reads first: ``text.body`` or ``interactive.body.text``."""
        if self.type == "text":
            return str(self.payload["text"]["body"])
        if self.type == "interactive":
            return str(self.payload["interactive"]["body"]["text"])
        return None


@dataclass(frozen=True)
class ApprovedTemplate:
    """A template Meta approved: its name and language, how many ``{{n}}`` variables its
    body has, and its quick-reply buttons' labels, in order."""

    name: str
    language: str
    body_parameters: int = 0
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentStatus:
    """One status webhook the fake posted, and the receiver's HTTP answer (``None``: the
    POST itself failed, e.g. nothing listens at ``webhook_url``)."""

    wamid: str
    status: str
    recipient_id: str
    body: dict[str, Any]
    answer: int | None


class _GraphError(Exception):
    def __init__(
        self, status: int, code: int, message: str, details: str, type_: str = "OAuthException"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.type = type_


def _invalid(details: str) -> _GraphError:
    return _GraphError(400, 131009, f"(#131009) {PARAMETER_NOT_VALID}", details)


def _required(name: str) -> _GraphError:
    text = f"The parameter {name} is required."
    return _GraphError(400, 100, f"(#100) {text}", text)


class _Bucket:
    """A token bucket: ``burst`` at once, then one token every ``1 / per_second`` seconds."""

    def __init__(self, burst: int, per_second: float, now: float) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self.tokens = float(burst)
        self.updated = now

    def available(self, now: float) -> bool:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
        self.updated = now
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Fault:
    status: int
    code: int
    message: str


class FakeWhatsApp:
    """The fake Cloud API server; use it as ``async with FakeWhatsApp() as fake``.

    ``clock`` is the monotonic clock of the rate limits and of :attr:`SentMessage.at`; tests
    may pass their own to move time without sleeping. ``wall_clock`` gives the Unix seconds of
    webhook ``timestamp`` fields.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        app_secret: str = DEFAULT_APP_SECRET,
        version: str = DEFAULT_VERSION,
        *,
        webhook_url: str | None = None,
        auto_statuses: bool = True,
        pair_limit_seconds: float = 6.0,
        pair_burst: int = 3,
        throughput_per_second: int = 80,
        waba_id: str = DEFAULT_WABA_ID,
        display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER,
        verified_name: str = DEFAULT_VERIFIED_NAME,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.version = version
        self.webhook_url = webhook_url
        """Where status webhooks and :meth:`deliver` post; may be set at any time."""
        self.auto_statuses = auto_statuses
        """Post ``sent`` then ``delivered`` after each accepted send (needs ``webhook_url``)."""
        self.pair_limit_seconds = pair_limit_seconds
        self.pair_burst = pair_burst
        self.throughput_per_second = throughput_per_second
        self.waba_id = waba_id
        self.display_phone_number = display_phone_number
        self.verified_name = verified_name
        self.quality_rating = "GREEN"
        self._expired = False
        self.clock = clock
        self.wall_clock = wall_clock

        self.sent: list[SentMessage] = []
        """Accepted sends, in order."""
        self.statuses_sent: list[SentStatus] = []
        """Status webhooks posted, in the order they were answered."""
        self.requests = 0
        """POSTs to the messages endpoint with the right token and phone number id, whatever
        the answer."""

        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None
        self._port = 0
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._closed_windows: set[str] = set()
        self.templates: dict[tuple[str, str], ApprovedTemplate] = {}
        """Approved templates by (name, language code); see :meth:`approve_template`."""
        self._pair_buckets: dict[str, _Bucket] = {}
        self._throughput: _Bucket | None = None
        self._wamid_counter = itertools.count(1)
        self._recipients: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._hidden: dict[str, tuple[str, str]] = {}  # wa_id -> (BSUID, username)
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{version}/{phone_number_id}/messages", self._handle)
        app.router.add_route("GET", "/{version}/{object_id}", self._node)
        app.router.add_route("*", "/{tail:.*}", self._unsupported_path)
        self._runner, self._port = await serve_on_loopback(app, shutdown_timeout=1.0)
        self._http = httpx.AsyncClient(timeout=5.0, trust_env=False)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.drain()
        finally:
            if self._http is not None:
                await self._http.aclose()
                self._http = None
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/<version>``; clients post to
        ``{base_url}/{phone_number_id}/messages``."""
        return f"http://127.0.0.1:{self._port}/{self.version}"

    @property
    def messages_url(self) -> str:
        """``{base_url}/{phone_number_id}/messages``."""
        return f"{self.base_url}/{self.phone_number_id}/messages"

    async def drain(self) -> None:
        """Wait until every pending status webhook has been posted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- behaviour toggles -----------------------------------------------------------------

    def approve_template(
        self,
        name: str,
        language: str,
        body_parameters: int = 0,
        quick_replies: Iterable[str] = (),
    ) -> ApprovedTemplate:
        """Meta approved template ``name`` in ``language``: sends of it are accepted."""
        approved = ApprovedTemplate(name, language, body_parameters, tuple(quick_replies))
        if len(approved.quick_replies) > MAX_TEMPLATE_BUTTONS:
            raise ValueError(f"a template has at most {MAX_TEMPLATE_BUTTONS} buttons")
        self.templates[(name, language)] = approved
        return approved

    def expire_token(self) -> None:
        """The token expires: every request answers 401 code 190, session expired."""
        self._expired = True

    def close_window(self, wa_id: str) -> None:
        """The customer's 24-hour window is over: non-template sends to them answer 131047."""
        self._closed_windows.add(_customer(wa_id))

    def open_window(self, wa_id: str) -> None:
        """The customer wrote again: free-form sends to them are accepted."""
        self._closed_windows.discard(_customer(wa_id))

    def window_open(self, wa_id: str) -> bool:
        return _customer(wa_id) not in self._closed_windows

    def fail_next(self, n: int = 1, status: int = 500, code: int | None = None) -> None:
        """Answer the next ``n`` sends with a Graph server error (not accepted).

        ``code`` defaults to 2 "Service temporarily unavailable" for 503 and to 1 "An unknown
        error occurred" otherwise.
        """
        if status < 500:
            raise ValueError("fail_next injects server errors (5xx); use close_window and such")
        if code is None:
            code = 2 if status == 503 else 1
        message = "Service temporarily unavailable" if code == 2 else "An unknown error occurred"
        self._faults.extend(_Fault(status, code, message) for _ in range(n))

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` from now on (``slow(0)`` to stop)."""
        self._delay = max(0.0, seconds)

    # -- recording -------------------------------------------------------------------------

    def messages_to(self, wa_id: str) -> list[SentMessage]:
        """Every accepted send to ``wa_id`` (or to a BSUID), in order."""
        wanted = _customer(wa_id)
        return [record for record in self.sent if _customer(record.to) == wanted]

    def statuses_of(self, wamid: str) -> list[str]:
        """The statuses posted for ``wamid``, in order."""
        return [s.status for s in self.statuses_sent if s.wamid == wamid]

    # -- status webhooks -------------------------------------------------------------------

    async def send_status(
        self, wamid: str, status: str, errors: list[dict[str, Any]] | None = None
    ) -> SentStatus:
        """Post one status webhook for a wamid the fake gave out, after any pending ones of it.

        ``status`` is ``sent``, ``delivered``, ``read``, ``failed`` or ``played``. Raises
        LookupError for an unknown wamid and RuntimeError without ``webhook_url``.
        """
        if wamid not in self._recipients:
            raise LookupError(f"the fake gave out no message {wamid}")
        if self.webhook_url is None:
            raise RuntimeError("set webhook_url before asking for status webhooks")
        results: list[SentStatus] = []

        async def post() -> None:
            results.append(await self._post_status(wamid, status, errors))

        await self._chain(wamid, post)
        return results[0]

    async def read(self, wamid: str) -> SentStatus:
        """Post a ``read`` status for ``wamid`` (after its pending ``sent``/``delivered``)."""
        return await self.send_status(wamid, "read")

    async def fail_delivery(self, wamid: str, code: int = 131047) -> SentStatus:
        """Post a ``failed`` status for ``wamid`` with one error of ``code`` (Meta's title and
        details for the codes in :data:`DELIVERY_ERRORS`)."""
        title, details = DELIVERY_ERRORS.get(code, ("Message failed to send", "Failed."))
        error = {
            "code": code,
            "title": title,
            "message": title,
            "error_data": {"details": details},
            "href": ERROR_CODES_HREF,
        }
        return await self.send_status(wamid, "failed", [error])

    def status_body(
        self, wamid: str, status: str, errors: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The webhook body of one status of ``wamid`` (not posted)."""
        recipient = self._recipients[wamid]
        entry: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": self._timestamp(),
            # A send to a BSUID is reported by that id alone (the number stays hidden).
            ("recipient_id" if recipient.isdecimal() else "recipient_user_id"): recipient,
        }
        if recipient.isdecimal() and status != "failed":
            # Meta names the BSUID in the sent, delivered and read statuses of a send to a
            # number too; a failed one says only the number.
            entry["recipient_user_id"] = _customer(recipient)
        if status == "failed":
            entry["errors"] = errors or []
        else:
            template = any(r.type == "template" for r in self.sent if r.wamid == wamid)
            entry["pricing"] = (
                {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
                if template
                else {
                    "billable": False,
                    "pricing_model": "PMP",
                    "type": "free_customer_service",
                    "category": "service",
                }
            )
            if errors:
                entry["errors"] = errors
        return self._wrap({"statuses": [entry]})

    # -- inbound builders ------------------------------------------------------------------

    def text_message(self, wa_id: str, body: str, name: str = "Ada") -> dict[str, Any]:
        """A customer's text message (reopens their window)."""
        message = self._inbound(wa_id, "text", name)
        message["text"] = {"body": body}
        return message

    @staticmethod
    def bsuid(wa_id: str) -> str:
        """The customer's business-scoped user id: a country code, a dot, and up to 128
        letters and digits (``US.13491208655302741918``); stable per customer."""
        return _bsuid(_digits(wa_id))

    def hide_number(self, wa_id: str, username: str) -> str:
        """The customer sets a WhatsApp ``username`` and hides their number: from now on
        their messages carry only ``from_user_id`` (their BSUID, returned), their contact
        entry only ``user_id`` and ``profile.username``, and a reply must name them in
        ``recipient``."""
        sender = _digits(wa_id)
        self._hidden[sender] = (self.bsuid(sender), username)
        return self._hidden[sender][0]

    def group_message(
        self, wa_id: str, body: str, group_id: str = "Y2FwaS5ncm91cDox"
    ) -> dict[str, Any]:
        """A text ``wa_id`` wrote in a group the business is in (Meta's Groups API): the
        message carries ``group_id`` ("Group messages webhook reference",
        developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
        reference/messages/group)."""
        message = self._inbound(wa_id, "text", None, window=False)
        message = {"from": message.pop("from"), "group_id": group_id, **message}
        message["text"] = {"body": body}
        return message

    def revoke(self, wa_id: str, original_wamid: str) -> dict[str, Any]:
        """The customer deleted their message ``original_wamid`` ("Revoke messages webhook
        reference", …/webhooks/reference/messages/revoke)."""
        message = self._inbound(wa_id, "revoke", None, window=False)
        message["revoke"] = {"original_message_id": original_wamid}
        return message

    def edit(self, wa_id: str, original_wamid: str, body: str) -> dict[str, Any]:
        """The customer edited their text ``original_wamid`` to ``body`` (within 15 minutes;
        "Edit messages webhook reference", …/webhooks/reference/messages/edit)."""
        message = self._inbound(wa_id, "edit", None, window=False)
        message["edit"] = {
            "original_message_id": original_wamid,
            "message": {"type": "text", "text": {"body": body}},
        }
        return message

    def bsuid_changed(self, wa_id: str, new_bsuid: str) -> dict[str, Any]:
        """Meta's notice that the customer's BSUID changed and no number can be shared:
        ``type: system``, ``system.type: user_changed_user_id`` with ``previous_user_id``
        and the new ``user_id`` ("System messages webhook reference", …/webhooks/reference/
        messages/system; changelog of Aug 11, 2026). It names the customer by their previous
        BSUID; system notices come without a ``contacts`` entry (``envelope(contacts=[])``).
        """
        previous = self.bsuid(wa_id)
        message = self._inbound(wa_id, "system", None, window=False)
        message.pop("from", None)
        message["from_user_id"] = previous
        message["system"] = {
            "body": f"User {self._names.get(_digits(wa_id), 'Ada')} changed from {previous} "
            f"to {new_bsuid}",
            "previous_user_id": previous,
            "user_id": new_bsuid,
            "type": "user_changed_user_id",
        }
        return message

    def button_reply(
        self,
        wa_id: str,
        reply_id: str,
        title: str,
        context_wamid: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A press on a reply button; ``context`` points at ``context_wamid`` (default: the
        latest message sent to ``wa_id``, else a fresh wamid)."""
        message = self._inbound(wa_id, "interactive", name)
        message["context"] = self._context(wa_id, context_wamid)
        message["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": reply_id, "title": title},
        }
        return _reorder_context(message)

    def quick_reply(
        self, wa_id: str, index: int, sent: SentMessage | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """The customer taps quick-reply button ``index`` of template message ``sent``
        (default: the latest template sent to ``wa_id``): an inbound ``button`` message with
        the button's label and the payload the send gave it (none given: the label, as Meta
        does), its ``context`` the template message. Reopens the customer's window."""
        if sent is None:
            templates = [m for m in self.messages_to(wa_id) if m.type == "template"]
            if not templates:
                raise ValueError(f"no template was sent to {wa_id}")
            sent = templates[-1]
        template = sent.payload["template"]
        approved = self.templates[(template["name"], template["language"]["code"])]
        label = approved.quick_replies[index]
        payload = label
        for component in template.get("components") or []:
            if component["type"] == "button" and int(component["index"]) == index:
                payload = component["parameters"][0]["payload"]
        message = self._inbound(wa_id, "button", name)
        message["context"] = self._context(wa_id, sent.wamid)
        message["button"] = {"payload": payload, "text": label}
        return _reorder_context(message)

    def list_reply(
        self,
        wa_id: str,
        row_id: str,
        title: str,
        description: str | None = None,
        context_wamid: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A choice of a list row (``description`` only when the row has one)."""
        message = self._inbound(wa_id, "interactive", name)
        message["context"] = self._context(wa_id, context_wamid)
        reply: dict[str, Any] = {"id": row_id, "title": title}
        if description is not None:
            reply["description"] = description
        message["interactive"] = {"type": "list_reply", "list_reply": reply}
        return _reorder_context(message)

    def unsupported(
        self, wa_id: str, kind: str = "image", name: str | None = None
    ) -> dict[str, Any]:
        """A message the bot does not handle: ``kind`` is one of :data:`UNSUPPORTED_KINDS`
        (its real shape) or ``"unsupported"`` (WhatsApp's own unknown type, with error 131051).
        """
        if kind == "unsupported":
            message = self._inbound(wa_id, "unsupported", name)
            message["errors"] = [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ]
            return message
        if kind not in UNSUPPORTED_KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        message = self._inbound(wa_id, kind, name)
        media_id = str(next(self._wamid_counter) + 1_000_000_000_000_000)
        if kind in ("image", "video", "document", "audio", "sticker"):
            mime = {
                "image": "image/jpeg",
                "video": "video/mp4",
                "document": "application/pdf",
                "audio": "audio/ogg; codecs=opus",
                "sticker": "image/webp",
            }[kind]
            media: dict[str, Any] = {
                "mime_type": mime,
                "sha256": base64.b64encode(secrets.token_bytes(32)).decode(),
                "id": media_id,
            }
            if kind == "audio":
                media["voice"] = True
            if kind == "sticker":
                media["animated"] = False
            message[kind] = media
        elif kind == "location":
            message["location"] = {"latitude": 52.52, "longitude": 13.405}
        elif kind == "contacts":
            message["contacts"] = [
                {"name": {"formatted_name": "Bea", "first_name": "Bea"}, "phones": []}
            ]
        else:  # reaction
            message["reaction"] = {"message_id": self._context(wa_id, None)["id"], "emoji": "👍"}
        return message

    def envelope(
        self,
        messages: Iterable[Mapping[str, Any]],
        contacts: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The webhook body carrying ``messages`` (one or more, from one or more customers).

        ``contacts`` defaults to one ``{"profile": {"name"}, "wa_id"}`` per distinct sender,
        in order of first appearance, with the name the builders were given.
        """
        listed = [dict(m) for m in messages]
        if contacts is None:
            senders = list(dict.fromkeys(str(m.get("from") or m["from_user_id"]) for m in listed))
            contacts = [self._contact_entry(s) for s in senders]
        return self._wrap({"contacts": contacts, "messages": listed})

    def _contact_entry(self, sender: str) -> dict[str, Any]:
        """``value.contacts[]`` for ``sender`` (a number, or a hidden number's BSUID)."""
        for number, (bsuid, username) in self._hidden.items():
            if sender == bsuid:
                name = self._names.get(number, "Ada")
                return {"profile": {"name": name, "username": username}, "user_id": bsuid}
        profile = {"name": self._names.get(sender, "Ada")}
        return {"profile": profile, "wa_id": sender, "user_id": self.bsuid(sender)}

    # -- signing and posting to our webhook ------------------------------------------------

    @staticmethod
    def encode(body: Mapping[str, Any]) -> bytes:
        """A webhook body as Meta sends it: compact JSON, non-ASCII escaped."""
        return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()

    def sign(self, body: bytes) -> str:
        """The ``X-Hub-Signature-256`` header value for the raw ``body``."""
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    async def deliver(
        self, body: Mapping[str, Any] | bytes, *, signature: str | None = None
    ) -> httpx.Response:
        """POST ``body`` (a dict, encoded by :meth:`encode`, or raw bytes) to ``webhook_url``,
        signed, unless ``signature`` gives the header value to send instead."""
        raw = body if isinstance(body, bytes) else self.encode(body)
        return await self._client().post(
            self._webhook(),
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature if signature is not None else self.sign(raw),
            },
        )

    async def verify_webhook(
        self, verify_token: str, challenge: str = "1158201444", mode: str = "subscribe"
    ) -> httpx.Response:
        """Meta's webhook verification: GET ``webhook_url?hub.mode&hub.challenge&
        hub.verify_token``; a right endpoint answers 200 with the raw challenge."""
        params = {"hub.mode": mode, "hub.challenge": challenge, "hub.verify_token": verify_token}
        return await self._client().get(self._webhook(), params=params)

    # -- HTTP ------------------------------------------------------------------------------

    async def _unsupported_path(self, request: web.Request) -> web.Response:
        return _error_response(self._unsupported(request, request.path.strip("/")))

    def _unsupported(self, request: web.Request, object_id: str) -> _GraphError:
        message = (
            f"Unsupported {request.method.lower()} request. Object with ID '{object_id}' does "
            "not exist, cannot be loaded due to missing permissions, or does not support this "
            "operation. Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api"
        )
        return _GraphError(400, 100, message, message, "GraphMethodException")

    def _check_token(self, request: web.Request) -> None:
        if _token(request) != self.token:
            raise _GraphError(401, 190, INVALID_TOKEN, INVALID_TOKEN)
        if self._expired:
            raise _GraphError(401, 190, EXPIRED_TOKEN, EXPIRED_TOKEN)

    async def _node(self, request: web.Request) -> web.Response:
        """``GET /{version}/{phone_number_id}``: the number, as the management API shows it."""
        try:
            self._check_token(request)
            if request.match_info["object_id"] != self.phone_number_id:
                raise self._unsupported(request, request.match_info["object_id"])
            asked = request.query.get("fields")
            names = DEFAULT_PHONE_NUMBER_FIELDS if asked is None else asked.split(",")
            for name in names:
                if name.strip() not in PHONE_NUMBER_FIELDS:
                    message = (
                        f"(#100) Tried accessing nonexisting field ({name.strip()}) on node"
                        " type (WhatsAppBusinessPhoneNumber)"
                    )
                    raise _GraphError(400, 100, message, message)
        except _GraphError as error:
            return _error_response(error)
        node = self._phone_number_node()
        shown = {name.strip(): node[name.strip()] for name in names if name.strip() in node}
        shown["id"] = self.phone_number_id
        return web.json_response(shown)

    def _phone_number_node(self) -> dict[str, Any]:
        digits = self.display_phone_number
        formatted = (
            f"+{digits[0]} {digits[1:4]}-{digits[4:7]}-{digits[7:]}"
            if len(digits) == 11 and digits.startswith("1")
            else f"+{digits}"
        )
        return {
            "id": self.phone_number_id,
            "verified_name": self.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": formatted,
            "quality_rating": self.quality_rating,
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "name_status": "APPROVED",
            "messaging_limit_tier": "TIER_1K",
            "account_mode": "LIVE",
            "is_official_business_account": False,
        }

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            self._check_token(request)
            if (
                request.match_info["phone_number_id"] != self.phone_number_id
                or request.method != "POST"
            ):
                raise self._unsupported(request, request.match_info["phone_number_id"])
            self.requests += 1
            body = await _read_body(request)
            if self._delay:
                await asyncio.sleep(self._delay)
            if self._faults:
                fault = self._faults.pop(0)
                raise _GraphError(fault.status, fault.code, fault.message, fault.message)
            to, kind = _validate(body)
            if kind == "template":
                self._check_approved(body["template"])
            self._check_window(to, kind)
            self._take_rate_tokens(to)
        except _GraphError as error:
            return _error_response(error)
        wamid = self._new_wamid()
        self._recipients[wamid] = to
        self.sent.append(SentMessage(to, kind, body, wamid, self.clock()))
        if self.auto_statuses and self.webhook_url is not None:
            self._schedule(wamid, ("sent", "delivered"))
        message: dict[str, Any] = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [
                    {"input": str(body["to"]), "wa_id": to}
                    if "to" in body
                    else {"input": to, "user_id": to}  # a BSUID: the number stays hidden
                ],
                "messages": [message],
            }
        )

    def _check_approved(self, template: Mapping[str, Any]) -> None:
        """The template is approved in that language, and the send fills what it has."""
        name, language = template["name"], template["language"]["code"]
        approved = self.templates.get((name, language))
        if approved is None:
            raise _GraphError(
                404,
                132001,
                f"(#132001) {TEMPLATE_MISSING}",
                f"template name ({name}) does not exist in {language}",
            )
        components = template.get("components") or []
        given = sum(len(c["parameters"]) for c in components if c["type"] == "body")
        if given != approved.body_parameters:
            raise _GraphError(
                400,
                132000,
                f"(#132000) {PARAMETER_COUNT}",
                f"body: number of localizable_params ({given}) does not match the expected "
                f"number of params ({approved.body_parameters})",
            )
        for component in components:
            if component["type"] == "button" and int(component["index"]) >= len(
                approved.quick_replies
            ):
                raise _invalid(
                    f"Button at index {component['index']} of type Quick_reply does not exist"
                )

    def _check_window(self, to: str, kind: str) -> None:
        if kind != "template" and _customer(to) in self._closed_windows:
            raise _GraphError(400, 131047, f"(#131047) {RE_ENGAGEMENT}", RE_ENGAGEMENT_DETAILS)

    def _take_rate_tokens(self, to: str) -> None:
        now = self.clock()
        if self._throughput is None:
            rate = self.throughput_per_second
            self._throughput = _Bucket(rate, float(rate), now)
        if not self._throughput.available(now):
            raise _GraphError(
                400,
                130429,
                f"(#130429) {THROUGHPUT_LIMIT}",
                "Cloud API message throughput has been reached.",
            )
        pair = self._pair_buckets.get(_customer(to))
        if pair is None:
            pair = self._pair_buckets[_customer(to)] = _Bucket(
                self.pair_burst, 1.0 / self.pair_limit_seconds, now
            )
        if not pair.available(now):
            raise _GraphError(
                400,
                131056,
                f"(#131056) {PAIR_RATE_LIMIT}",
                "Message failed to send because there were too many messages sent from this "
                "phone number to the same phone number in a short period of time.",
            )
        self._throughput.take()
        pair.take()

    # -- helpers ---------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use the fake inside `async with`")
        return self._http

    def _webhook(self) -> str:
        if self.webhook_url is None:
            raise RuntimeError("set webhook_url first")
        return self.webhook_url

    def _new_wamid(self) -> str:
        raw = f"{self.phone_number_id}:{next(self._wamid_counter)}:{secrets.token_hex(8)}"
        return "wamid.HBgL" + base64.b64encode(raw.encode()).decode().rstrip("=")

    def _timestamp(self) -> str:
        return str(int(self.wall_clock()))

    def _wrap(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.display_phone_number,
                                    "phone_number_id": self.phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def _inbound(
        self, wa_id: str, kind: str, name: str | None, *, window: bool = True
    ) -> dict[str, Any]:
        sender = _digits(wa_id)
        if name is not None:
            self._names[sender] = name
        else:
            self._names.setdefault(sender, "Ada")
        hidden = self._hidden.get(sender)
        if window:
            self.open_window(sender if hidden is None else hidden[0])
        # Since April 2026 every message names the sender's BSUID; ``from`` (the number) is
        # left out for a customer who hides it behind a username.
        who = (
            {"from_user_id": hidden[0]}
            if hidden
            else {"from": sender, "from_user_id": self.bsuid(sender)}
        )
        return {**who, "id": self._new_wamid(), "timestamp": self._timestamp(), "type": kind}

    def _context(self, wa_id: str, wamid: str | None) -> dict[str, str]:
        if wamid is None:
            sent = self.messages_to(wa_id)
            wamid = sent[-1].wamid if sent else self._new_wamid()
        return {"from": self.display_phone_number, "id": wamid}

    def _schedule(self, wamid: str, statuses: tuple[str, ...]) -> None:
        async def post() -> None:
            for status in statuses:
                await self._post_status(wamid, status, None)

        self._track(self._chain_task(wamid, post))

    def _chain_task(self, wamid: str, post: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        previous = self._chains.get(wamid)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await post()

        task = asyncio.get_running_loop().create_task(run())
        self._chains[wamid] = task
        return task

    async def _chain(self, wamid: str, post: Callable[[], Awaitable[None]]) -> None:
        task = self._chain_task(wamid, post)
        self._track(task)
        await task

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_status(
        self, wamid: str, status: str, errors: list[dict[str, Any]] | None
    ) -> SentStatus:
        body = self.status_body(wamid, status, errors)
        answer: int | None
        try:
            response = await self.deliver(body)
            answer = response.status_code
        except (httpx.HTTPError, RuntimeError):  # nothing listens, or webhook_url was unset
            answer = None
        record = SentStatus(wamid, status, self._recipients[wamid], body, answer)
        self.statuses_sent.append(record)
        return record


# -- request parsing and validation ---------------------------------------------------------


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("access_token")


async def _read_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _required("messaging_product")
    return body


def _digits(number: str) -> str:
    return "".join(ch for ch in str(number) if ch.isdigit())


def _bsuid(digits: str) -> str:
    digest = hashlib.sha256(digits.encode()).hexdigest()
    return f"DE.{int(digest[:16], 16)}"


def _customer(key: str) -> str:
    """How the fake keys a customer, whichever id names them: their BSUID."""
    return key if BSUID.fullmatch(key) else _bsuid(_digits(key))


def _reorder_context(message: dict[str, Any]) -> dict[str, Any]:
    """Meta lists ``context`` first in interactive replies."""
    return {"context": message.pop("context"), **message}


def _validate(body: Mapping[str, Any]) -> tuple[str, str]:
    """Check a send's body; return the recipient's wa_id and the message type."""
    if "messaging_product" not in body:
        raise _required("messaging_product")
    if body["messaging_product"] != "whatsapp":
        raise _invalid("messaging_product must be 'whatsapp'")
    if body.get("recipient_type", "individual") != "individual":
        raise _invalid("recipient_type must be 'individual'")
    if "to" in body:  # ``to`` wins when both are given
        to = _digits(str(body["to"]))
        if not isinstance(body["to"], str) or not 5 <= len(to) <= 20:
            raise _invalid("Invalid 'to' parameter: expected a phone number or wa_id")
    elif "recipient" in body:  # a business-scoped user id (BSUID)
        to = body["recipient"]
        if not isinstance(to, str) or not BSUID.fullmatch(to):
            raise _invalid("Invalid 'recipient' parameter: expected a business-scoped user id")
    else:
        raise _required("to")
    kind = body.get("type", "text")  # Graph defaults type to text
    if kind == "text":
        _check_text(body)
    elif kind == "interactive":
        _check_interactive(body)
    elif kind == "template":
        _check_template(body)
    else:
        raise _invalid(
            f"Unsupported message type '{kind}' (the fake models text, interactive and template)"
        )
    return to, str(kind)


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _required(name)
    return value


def _string(
    parent: Mapping[str, Any], key: str, path: str, max_length: int, *, required: bool = True
) -> str | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise _required(path)
        return None
    if not isinstance(value, str):
        raise _invalid(f"{path} must be a string")
    if required and not value.strip():
        raise _invalid(f"{path} is empty")
    if len(value) > max_length:
        raise _invalid(
            f"{path} length invalid: {len(value)} characters. Min length: 1, "
            f"Max length: {max_length}"
        )
    return value


def _check_text(body: Mapping[str, Any]) -> None:
    text = _object(body.get("text"), "text")
    _string(text, "body", "text['body']", MAX_TEXT_BODY)
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise _invalid("text['preview_url'] must be a boolean")


def _check_interactive(body: Mapping[str, Any]) -> None:
    interactive = _object(body.get("interactive"), "interactive")
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        raise _invalid(
            f"interactive['type'] '{kind}' is not supported (the fake models button and list)"
        )
    limit = MAX_BUTTON_BODY if kind == "button" else MAX_LIST_BODY
    _string(
        _object(interactive.get("body"), "interactive['body']"),
        "text",
        "interactive['body']['text']",
        limit,
    )
    if "footer" in interactive:
        footer = _object(interactive["footer"], "interactive['footer']")
        _string(footer, "text", "interactive['footer']['text']", MAX_FOOTER_TEXT)
    if "header" in interactive:
        header = _object(interactive["header"], "interactive['header']")
        header_type = header.get("type")
        if header_type == "text":
            _string(header, "text", "interactive['header']['text']", MAX_HEADER_TEXT)
        elif kind == "list" or header_type not in ("image", "video", "document"):
            raise _invalid(f"interactive['header']['type'] '{header_type}' is not valid here")
    action = _object(interactive.get("action"), "interactive['action']")
    if kind == "button":
        _check_buttons(action)
    else:
        _check_list(action)


def _check_buttons(action: Mapping[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise _required("interactive['action']['buttons']")
    if len(buttons) > MAX_BUTTONS:
        raise _invalid(
            f"Invalid buttons count: {len(buttons)}. Min buttons: 1, Max buttons: {MAX_BUTTONS}"
        )
    titles: set[str] = set()
    ids: set[str] = set()
    for index, button in enumerate(buttons):
        where = f"interactive['action']['buttons'][{index}]"
        button = _object(button, where)
        if button.get("type") != "reply":
            raise _invalid(f"{where}['type'] must be 'reply'")
        reply = _object(button.get("reply"), f"{where}['reply']")
        title = _string(
            reply, "title", f"{where}['reply']['title'] (button title)", MAX_BUTTON_TITLE
        )
        reply_id = _string(reply, "id", f"{where}['reply']['id']", MAX_BUTTON_ID)
        if title in titles:
            raise _invalid(f"Button title is not unique: '{title}'")
        if reply_id in ids:
            raise _invalid(f"Button id is not unique: '{reply_id}'")
        titles.add(str(title))
        ids.add(str(reply_id))


def _check_list(action: Mapping[str, Any]) -> None:
    _string(action, "button", "interactive['action']['button'] (list button text)", MAX_LIST_BUTTON)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _required("interactive['action']['sections']")
    if len(sections) > MAX_SECTIONS:
        raise _invalid(
            f"Invalid sections count: {len(sections)}. Min sections: 1, "
            f"Max sections: {MAX_SECTIONS}"
        )
    row_ids: set[str] = set()
    total = 0
    for s_index, section in enumerate(sections):
        where = f"interactive['action']['sections'][{s_index}]"
        section = _object(section, where)
        _string(
            section,
            "title",
            f"{where}['title'] (section title)",
            MAX_SECTION_TITLE,
            required=len(sections) > 1,
        )
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _required(f"{where}['rows']")
        total += len(rows)
        if total > MAX_ROWS:
            count = sum(len(s.get("rows") or []) for s in sections if isinstance(s, Mapping))
            raise _invalid(f"Invalid rows count: {count}. Min rows: 1, Max rows: {MAX_ROWS}")
        for r_index, row in enumerate(rows):
            row_where = f"{where}['rows'][{r_index}]"
            row = _object(row, row_where)
            row_id = _string(row, "id", f"{row_where}['id']", MAX_ROW_ID)
            _string(row, "title", f"{row_where}['title'] (row title)", MAX_ROW_TITLE)
            _string(
                row,
                "description",
                f"{row_where}['description'] (row description)",
                MAX_ROW_DESCRIPTION,
                required=False,
            )
            if row_id in row_ids:
                raise _invalid(f"Row id is not unique: '{row_id}'")
            row_ids.add(str(row_id))


def _check_template(body: Mapping[str, Any]) -> None:
    template = _object(body.get("template"), "template")
    _string(template, "name", "template['name']", MAX_TEMPLATE_NAME)
    language = _object(template.get("language"), "template['language']")
    _string(language, "code", "template['language']['code']", 15)
    components = template.get("components")
    if components is None:
        return
    if not isinstance(components, list):
        raise _invalid("template['components'] must be an array")
    kinds: set[str] = set()
    indexes: set[str] = set()
    for c_index, component in enumerate(components):
        where = f"template['components'][{c_index}]"
        component = _object(component, where)
        kind = component.get("type")
        if kind in ("header", "body"):
            if kind in kinds:
                raise _invalid(f"{where}: a template has one {kind} component")
            kinds.add(str(kind))
            limit = (
                MAX_TEMPLATE_HEADER_PARAMETER if kind == "header" else MAX_TEMPLATE_BODY_PARAMETER
            )
            _check_text_parameters(component.get("parameters"), where, limit)
        elif kind == "button":
            index = _check_quick_reply(component, where)
            if index in indexes:
                raise _invalid(f"{where}: button index {index} is given twice")
            indexes.add(index)
        else:
            raise _invalid(f"{where}['type'] '{kind}' is not valid (header, body or button)")


def _check_text_parameters(parameters: Any, where: str, limit: int) -> None:
    if not isinstance(parameters, list) or not parameters:
        raise _required(f"{where}['parameters']")
    for p_index, parameter in enumerate(parameters):
        at = f"{where}['parameters'][{p_index}]"
        parameter = _object(parameter, at)
        if parameter.get("type") != "text":
            raise _invalid(f"{at}['type'] '{parameter.get('type')}' (the fake models text)")
        value = str(_string(parameter, "text", f"{at}['text']", limit))
        if "\n" in value or "\t" in value or " " * 5 in value:
            raise _GraphError(400, 100, "(#100) Invalid parameter", PARAMETER_TEXT)


def _check_quick_reply(component: Mapping[str, Any], where: str) -> str:
    """Check a quick-reply button component; its index."""
    if component.get("sub_type") != "quick_reply":
        raise _invalid(f"{where}['sub_type'] must be 'quick_reply' (the fake models those)")
    index = component.get("index")
    if not isinstance(index, str) or not re.fullmatch(r"[0-9]", index):
        raise _invalid(f"{where}['index'] must be a button position from '0' to '9'")
    parameters = component.get("parameters")
    if not isinstance(parameters, list) or len(parameters) != 1:
        raise _invalid(f"{where}['parameters'] must hold one payload parameter")
    parameter = _object(parameters[0], f"{where}['parameters'][0]")
    if parameter.get("type") != "payload":
        raise _invalid(f"{where}['parameters'][0]['type'] must be 'payload'")
    _string(parameter, "payload", f"{where}['parameters'][0]['payload']", MAX_QUICK_REPLY_PAYLOAD)
    return index


def _error_response(error: _GraphError) -> web.Response:
    body = {
        "error": {
            "message": error.message,
            "type": error.type,
            "code": error.code,
            "error_data": {"messaging_product": "whatsapp", "details": error.details},
            "fbtrace_id": _fbtrace_id(),
        }
    }
    return web.json_response(body, status=error.status)


def _fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[:27]
