"""Replies out through the Cloud API: reply buttons, a list, or plain text; templates when
the 24-hour window is closed.

* At most 3 choices whose labels fit 20 characters and differ, and a body within 1,024
  characters: reply buttons. Otherwise a list (10 rows at most, as the channel's capacity
  guarantees; row titles 24). No choices: a text message.
* Errors are told apart by the Graph error ``code``, never by their text: 130429 (too many
  messages a second) and 131056 (too many to one customer) wait and retry; 131047 (more than
  24 hours since the customer last wrote) answers ``OutsideWindow``, and the outbox queues
  ``reopen_window``, the configured template (the message fails when there is none), as it
  does when 131047 comes later in a ``failed`` status; 5xx and network errors retry; other
  4xx fail the message, logged with Meta's ``fbtrace_id``.
* A message that has a form (a reminder) is queued as that form instead when refused so:
  ``send_form`` sends the configured reminder template (``WHATSAPP_REMINDER_TEMPLATE``) in
  the form's language, its parameters and quick-reply payloads filled; with none
  configured the form fails, saying so (a customer outside the window gets no reminder).
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.whatsapp.templates import template_payload
from adapters.whatsapp.updates import CHANNEL, addressee
from core.conversation.capacity import shorten
from core.conversation.messages import Form, Reply
from core.ports import (
    OutsideWindow,
    PermanentFailure,
    RetryAfter,
    SendOutcome,
    Sent,
    TransientFailure,
)

BUTTONS, BUTTON_TITLE, BUTTON_BODY = 3, 20, 1024
ROWS, ROW_TITLE, LIST_BUTTON, BODY = 10, 24, 20, 4096
PAIR_LIMIT_WAIT = 6.0  # Meta allows about one message per 6 s to one customer
THROUGHPUT_WAIT = 2.0
OUTSIDE_WINDOW = 131047
# Throughput (130429), pair rate (131056), and Graph's general throttling codes.
WAIT_AND_RETRY = {
    130429: THROUGHPUT_WAIT,
    131056: PAIR_LIMIT_WAIT,
    131048: PAIR_LIMIT_WAIT,
    80007: 60.0,
    4: 60.0,
}
GONE = {131026}  # the number is not on WhatsApp, or cannot receive


def message_payload(to: str, reply: Reply) -> dict[str, Any]:
    """The ``/messages`` body for ``reply``: never over one of the Cloud API's limits."""
    if not reply.text.strip():
        reply = Reply("…", reply.choices, reply.button)
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    base.update(addressee(to))
    choices = reply.choices
    titles = [c.label for c in choices]
    if not choices:
        return {**base, "type": "text", "text": {"body": shorten(reply.text, BODY)}}
    if (
        len(choices) <= BUTTONS
        and all(len(t) <= BUTTON_TITLE for t in titles)
        and len(set(titles)) == len(titles)
        and len(reply.text) <= BUTTON_BODY
    ):
        buttons = [{"type": "reply", "reply": {"id": c.id, "title": c.label}} for c in choices]
        interactive = {
            "type": "button",
            "body": {"text": reply.text},
            "action": {"buttons": buttons},
        }
        return {**base, "type": "interactive", "interactive": interactive}
    rows = [{"id": c.id, "title": shorten(c.label, ROW_TITLE)} for c in choices[:ROWS]]
    interactive = {
        "type": "list",
        "body": {"text": shorten(reply.text, BODY)},
        "action": {
            "button": shorten(reply.button.strip() or "☰", LIST_BUTTON),
            "sections": [{"rows": rows}],
        },
    }
    return {**base, "type": "interactive", "interactive": interactive}


def _error(answer: httpx.Response) -> tuple[int | None, str]:
    try:
        error = answer.json().get("error") or {}
    except ValueError:
        return None, f"HTTP {answer.status_code}"
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
    text = (
        f"HTTP {answer.status_code} code {code}: {details} (fbtrace_id {error.get('fbtrace_id')})"
    )
    return (code if isinstance(code, int) else None), text


class WhatsAppSender:
    """The outbound side: one ``httpx.AsyncClient`` per process, closed with ``close``."""

    name = CHANNEL

    def __init__(
        self,
        client: httpx.AsyncClient,
        api_base: str,
        phone_number_id: str,
        token: str,
        *,
        template: str | None = None,
        template_language: str = "en",
        reminder_template: str | None = None,
    ) -> None:
        self._client = client
        self._url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._template = template
        self._template_language = template_language
        # Template names by the form they send (``Form.name``).
        self._forms = {"reminder": reminder_template} if reminder_template else {}

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        return await self._post(message_payload(chat_id, reply))

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        """The approved template: the customer's answer reopens the 24-hour window."""
        if self._template is None:
            return PermanentFailure(
                "outside the 24-hour window and no WHATSAPP_TEMPLATE to reopen it"
            )
        return await self._post(template_payload(chat_id, self._template, self._template_language))

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        """The template configured for ``form.name`` (``"reminder"``: the reminder template)
        in the form's language, its body filled with ``form.params`` and its quick-reply
        buttons with ``form.payloads``."""
        name = self._forms.get(form.name)
        if name is None:
            setting = "WHATSAPP_REMINDER_TEMPLATE" if form.name == "reminder" else "template"
            return PermanentFailure(
                f"outside the 24-hour window and no {setting} for the {form.name!r} form"
            )
        try:
            payload = template_payload(chat_id, name, form.language, form.params, form.payloads)
        except ValueError as error:
            return PermanentFailure(f"form {form.name!r} does not fit its template: {error}")
        return await self._post(payload)

    async def _post(self, payload: dict[str, Any]) -> SendOutcome:
        try:
            answer = await self._client.post(self._url, json=payload, headers=self._headers)
        except httpx.HTTPError as error:
            return TransientFailure(f"{type(error).__name__}: {error}")
        if answer.status_code < 300:
            try:
                wamid = answer.json()["messages"][0]["id"]
            except (ValueError, KeyError, IndexError, TypeError):
                return TransientFailure(f"HTTP {answer.status_code}: unreadable answer")
            return Sent(str(wamid))
        code, text = _error(answer)
        if code in WAIT_AND_RETRY:
            return RetryAfter(WAIT_AND_RETRY[code], text)
        if code == OUTSIDE_WINDOW:
            return OutsideWindow(text)
        if answer.status_code >= 500 or answer.status_code in (401, 429):
            return TransientFailure(text)
        return PermanentFailure(text, unreachable=code in GONE)
