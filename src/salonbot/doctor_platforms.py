"""The doctor's look at the platforms salonbot is configured for: Telegram (the token, the
webhook as Telegram sees it), WhatsApp (the token and the phone number, the templates) and
the staff members' Google Calendars. Plain HTTP for the first two: what the doctor asks is
two GETs, and a bounded client says exactly what went wrong."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.telegram.webhook import WEBHOOK_PATH as TELEGRAM_WEBHOOK_PATH
from core.domain.catalog import Catalog
from core.ports import Clock
from salonbot.config import Settings
from salonbot.doctor import Finding, Status, bounded

# A webhook delivery that failed more recently than this is the bot not answering now.
RECENT_ERROR = timedelta(hours=1)
# More updates than this waiting at Telegram: salonbot is not taking them.
MANY_PENDING = 10


def _client(within: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(within, connect=min(within, 5.0)))


def _unreachable(what: str, error: httpx.HTTPError) -> str:
    # The type and httpx's reason only: a request error's text never carries the URL here,
    # and the URL of a Telegram call carries the token.
    reason = " ".join(str(error).split())
    return f"cannot reach {what}: {type(error).__name__}" + (f": {reason}" if reason else "")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def telegram_findings(
    settings: Settings, clock: Clock, within: float
) -> AsyncIterator[Finding]:
    if settings.telegram_bot_token is None:
        return
    token = settings.telegram_bot_token.get_secret_value()
    api = f"{settings.telegram_api}/bot{token}"
    async with _client(within) as http:

        async def get_me() -> list[Finding]:
            try:
                answer = await http.get(f"{api}/getMe")
            except httpx.HTTPError as error:
                return [Finding("telegram", Status.FAIL, _unreachable("Telegram", error))]
            body = _json(answer)
            if answer.status_code == 401:
                why = "Telegram does not accept TELEGRAM_BOT_TOKEN (401 Unauthorized)"
                return [Finding("telegram", Status.FAIL, f"{why}: a new one from @BotFather")]
            if not body.get("ok"):
                return [Finding("telegram", Status.FAIL, _refusal(answer, body))]
            me = body.get("result") or {}
            return [Finding("telegram", Status.OK, f"@{me.get('username')} answers getMe")]

        [me] = await bounded("telegram", get_me, within)
        yield me
        if me.status is not Status.OK:
            yield Finding("telegram webhook", Status.SKIP, "needs getMe to answer")
            return

        async def webhook_info() -> list[Finding]:
            try:
                answer = await http.get(f"{api}/getWebhookInfo")
            except httpx.HTTPError as error:
                return [Finding("telegram webhook", Status.FAIL, _unreachable("Telegram", error))]
            body = _json(answer)
            if not body.get("ok"):
                return [Finding("telegram webhook", Status.FAIL, _refusal(answer, body))]
            return [_webhook(settings, body.get("result") or {}, clock.now())]

        [webhook] = await bounded("telegram webhook", webhook_info, within)
        yield webhook


def _refusal(answer: httpx.Response, body: dict[str, Any]) -> str:
    description = str(body.get("description") or answer.reason_phrase)[:200]
    return f"Telegram answered {answer.status_code}: {description}"


def _webhook(settings: Settings, info: dict[str, Any], now: datetime) -> Finding:
    expected = (
        f"{settings.public_base_url}{TELEGRAM_WEBHOOK_PATH}" if settings.public_base_url else ""
    )
    url = str(info.get("url") or "")
    pending = int(info.get("pending_update_count") or 0)
    problems = []
    if url != expected:
        if not expected:
            problems.append(
                f"a webhook is set ({url}) though PUBLIC_BASE_URL is unset (polling):"
                " `salonbot serve` removes it when it starts; is it running, or does another"
                " program use this bot?"
            )
        elif not url:
            problems.append(
                f"no webhook is set: `salonbot serve` sets {expected} when it starts; is it"
                " running?"
            )
        else:
            problems.append(
                f"the webhook is {url}, not {expected} (PUBLIC_BASE_URL): restart"
                " `salonbot serve` to register it again"
            )
    error_at = info.get("last_error_date")
    error = str(info.get("last_error_message") or "")[:300]
    last_error = ""
    if isinstance(error_at, int) and error_at > 0:
        age = now - datetime.fromtimestamp(error_at, UTC)
        last_error = f"its last delivery failed {_ago(age)}: {error}"
        # A recent failure fails the check while updates wait behind it; with none
        # waiting it was passing (a restart's moment, say): worth a look, not a failure.
        if age < RECENT_ERROR and (pending > 0 or problems):
            problems.append(last_error)
        elif age < RECENT_ERROR:
            where = f"{url}" if url else "none (polling)"
            return Finding(
                "telegram webhook", Status.WARN, f"{where}, 0 updates waiting; {last_error}"
            )
    waiting = f"{pending} update{'s' if pending != 1 else ''} waiting"
    if problems:
        return Finding("telegram webhook", Status.FAIL, "; ".join([*problems, waiting]))
    where = f"{url}" if url else "none (polling)"
    detail = f"{where}, {waiting}" + (f"; {last_error}" if last_error else "")
    if pending > MANY_PENDING:
        return Finding("telegram webhook", Status.WARN, f"{detail}: is salonbot taking them?")
    return Finding("telegram webhook", Status.OK, detail)


def _ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


async def whatsapp_findings(settings: Settings, within: float) -> AsyncIterator[Finding]:
    if not settings.whatsapp_on:
        return
    assert settings.whatsapp_token is not None
    token = settings.whatsapp_token.get_secret_value()
    number = settings.whatsapp_phone_number_id
    async with _client(within) as http:

        async def phone_number() -> list[Finding]:
            try:
                answer = await http.get(
                    f"{settings.whatsapp_api}/{number}",
                    params={"fields": "verified_name,display_phone_number,quality_rating"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:
                return [Finding("whatsapp", Status.FAIL, _unreachable("Meta", error))]
            body = _json(answer)
            return [_phone_number(answer.status_code, body)]

        [found] = await bounded("whatsapp", phone_number, within)
        yield found
    yield _templates(settings)


def _phone_number(status: int, body: dict[str, Any]) -> Finding:
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if error is not None or status != 200:
        error = error or {}
        code, message = error.get("code"), str(error.get("message") or "")[:300]
        if code == 190:
            why = (
                f"Meta does not accept WHATSAPP_TOKEN (code 190: {message}): it is wrong,"
                " revoked or expired; make a new system user token (RUNBOOK.md: WhatsApp"
                " token expired)"
            )
        elif code == 100:
            why = (
                f"WHATSAPP_PHONE_NUMBER_ID: Meta knows no such number for this token"
                f" (code 100: {message})"
            )
        else:
            why = f"Meta answered {status} (code {code}: {message})"
        return Finding("whatsapp", Status.FAIL, why)
    name, shown = body.get("verified_name"), body.get("display_phone_number")
    quality = body.get("quality_rating")
    detail = f"{shown} ({name}), quality {quality}"
    if quality == "RED":
        return Finding("whatsapp", Status.WARN, f"{detail}: Meta may limit its messages soon")
    return Finding("whatsapp", Status.OK, detail)


def _templates(settings: Settings) -> Finding:
    language = settings.whatsapp_template_language
    if settings.whatsapp_reminder_template is None:
        return Finding(
            "whatsapp templates",
            Status.FAIL,
            "WHATSAPP_REMINDER_TEMPLATE is not set: a reminder to a customer who has not"
            " written for 24 hours cannot be sent (README: WhatsApp)",
        )
    detail = f"reminder {settings.whatsapp_reminder_template} ({language})"
    if settings.whatsapp_template is None:
        return Finding(
            "whatsapp templates",
            Status.WARN,
            f"{detail}; WHATSAPP_TEMPLATE is not set: a reply after 24 hours of silence"
            " cannot ask the customer to write again",
        )
    return Finding(
        "whatsapp templates", Status.OK, f"{detail}, reopener {settings.whatsapp_template}"
    )


async def google_findings(
    settings: Settings, catalog: Catalog | None, within: float
) -> AsyncIterator[Finding]:
    """Each linked calendar, as ``salonbot google check`` checks it (a probe event is
    written and deleted)."""
    if settings.google_service_account_file is None:
        return
    from adapters.google_calendar.client import GoogleCalendars, KeyFileError

    try:
        calendars = GoogleCalendars.from_key_file(
            settings.google_service_account_file, api_base=settings.google_calendar_api_base
        )
    except KeyFileError as error:
        yield Finding("google", Status.FAIL, f"GOOGLE_SERVICE_ACCOUNT_FILE: {error}")
        return
    if catalog is None:
        yield Finding("google", Status.SKIP, "needs the catalog")
        return
    linked = [(m.key, m.google_calendar) for m in catalog.staff.values() if m.google_calendar]
    if not linked:
        yield Finding(
            "google", Status.WARN, "the key is read, but no staff member has a google_calendar"
        )
        return
    for key, calendar_id in linked:

        async def check(key: str = key, calendar_id: str = calendar_id) -> list[Finding]:
            why = await calendars.check(calendar_id)
            status = Status.OK if why is None else Status.FAIL
            return [Finding(f"google {key}", status, f"{calendar_id}: {why or 'writable'}")]

        for finding in await bounded(f"google {key}", check, within):
            yield finding
