"""``salonbot doctor`` against real Postgres and the fake platforms (Telegram, WhatsApp,
Google Calendar): one line per check, exit 1 on any failure, each failure it knows of
shown, and no secret ever printed."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text as sql

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.config import Settings
from salonbot.database import make_engine
from salonbot.doctor import Finding, Masked, Status, diagnose
from salonbot.doctor_database import look_at_database
from salonbot.migrate import upgrade
from tests.catalog_cases import edited, put
from tests.cli_run import cli_environment, environment, salonbot
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp

PUBLIC = "https://salon.example.com"
WEBHOOK = f"{PUBLIC}/webhooks/telegram"
WEBHOOK_SECRET = "webhook_secret-0123456789"
APP_SECRET = "whatsapp-app-secret-0123"
VERIFY_TOKEN = "verify-token-0123456789"
MARIA = "maria@group.calendar.google.com"
OLGA = "olga@group.calendar.google.com"
# Settings of this process that would change what the doctor checks.
OURS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "PUBLIC_BASE_URL",
    "TELEGRAM_API_BASE",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_API_BASE",
    "WHATSAPP_TEMPLATE",
    "WHATSAPP_REMINDER_TEMPLATE",
    "GOOGLE_SERVICE_ACCOUNT_FILE",
    "GOOGLE_CALENDAR_API_BASE",
    "METRICS_PORT",
    "METRICS_TOKEN",
)


@dataclass
class Platforms:
    telegram: FakeTelegram
    whatsapp: FakeWhatsApp
    google: FakeGoogleCalendar
    env: dict[str, str]

    def secrets(self) -> list[str]:
        return [
            DEFAULT_TOKEN,
            DEFAULT_TOKEN.split(":")[1],
            WEBHOOK_SECRET,
            self.whatsapp.token,
            APP_SECRET,
            VERIFY_TOKEN,
        ]


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    """This process's environment with the test's database, none of salonbot's settings."""
    env = cli_environment(database_url, tmp_path / "data")
    return {name: value for name, value in env.items() if name not in OURS}


async def _doctor(env: dict[str, str]) -> tuple[int, str, str]:
    return await asyncio.to_thread(salonbot, env, "doctor")


def _lines(out: str) -> dict[str, tuple[str, str]]:
    """Each check's status and detail, by check."""
    found = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        check, _, detail = rest.strip().partition(": ")
        found[check] = (status, detail)
    return found


async def _set_webhook(fake: FakeTelegram, url: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{fake.base_url}/bot{fake.token}/setWebhook",
            json={"url": url, "secret_token": WEBHOOK_SECRET},
        )
    assert answer.json()["ok"]


@pytest.fixture
async def platforms(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> AsyncIterator[Platforms]:
    """The demo salon with Maria's and Olga's calendars linked, and every platform fake
    as salonbot expects to find it."""
    text = edited(
        put("staff", 1, "google_calendar", value=MARIA),
        put("staff", 2, "google_calendar", value=OLGA),
    )
    document, _ = load_catalog_text(text)
    await load_catalog(app.uow, clock, document)
    async with (
        FakeTelegram() as telegram,
        FakeWhatsApp() as whatsapp,
        FakeGoogleCalendar() as google,
    ):
        google.add_calendar(MARIA)
        google.add_calendar(OLGA)
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(google.service_account_info()))
        await _set_webhook(telegram, WEBHOOK)
        env = _environment(database_url, tmp_path)
        env.update(
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PUBLIC_BASE_URL=PUBLIC,
            WHATSAPP_TOKEN=whatsapp.token,
            WHATSAPP_PHONE_NUMBER_ID=whatsapp.phone_number_id,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            WHATSAPP_API_BASE=whatsapp.base_url,
            WHATSAPP_TEMPLATE="visit_follow_up",
            WHATSAPP_REMINDER_TEMPLATE="visit_reminder",
            GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file),
            GOOGLE_CALENDAR_API_BASE=google.base_url,
        )
        yield Platforms(telegram, whatsapp, google, env)


def _no_secret(platforms: Platforms, *outputs: str) -> None:
    for secret in platforms.secrets():
        for output in outputs:
            assert secret not in output


async def test_a_healthy_install_passes_every_check_one_line_each(platforms: Platforms) -> None:
    code, out, err = await _doctor(platforms.env)

    assert (code, err) == (0, ""), out
    checks = _lines(out)
    assert list(checks) == [
        "settings",
        "database",
        "clock",
        "catalog",
        "telegram",
        "telegram webhook",
        "whatsapp",
        "whatsapp templates",
        "google maria",
        "google olga",
    ]
    assert {status for status, _ in checks.values()} == {"ok"}, out
    assert checks["settings"][1] == "telegram webhook, whatsapp on, google on, metrics off"
    assert checks["database"][1].startswith("reachable, schema at head (00")
    assert checks["catalog"][1] == "Studio Lumen: 7 services, 3 staff"
    assert checks["telegram"][1] == "@salonbot_test_bot answers getMe"
    assert checks["telegram webhook"][1] == f"{WEBHOOK}, 0 updates waiting"
    assert checks["whatsapp"][1] == "+1 555-078-3881 (Studio Lumen), quality GREEN"
    assert checks["google olga"][1] == f"{OLGA}: writable"
    _no_secret(platforms, out, err)
    assert platforms.google.events(MARIA) == []  # the probe event was deleted again


async def test_a_token_telegram_refuses_fails_and_is_never_printed(platforms: Platforms) -> None:
    env = {**platforms.env, "TELEGRAM_BOT_TOKEN": "999:wrong-token-abc"}

    code, out, err = await _doctor(env)

    checks = _lines(out)
    assert code == 1
    assert checks["telegram"] == (
        "FAIL",
        "Telegram does not accept TELEGRAM_BOT_TOKEN (401 Unauthorized): a new one from @BotFather",
    )
    assert checks["telegram webhook"] == ("skip", "needs getMe to answer")
    assert err == "salonbot: 1 check failed\n"
    assert "wrong-token-abc" not in out + err


async def test_telegram_out_of_reach_fails_and_says_so(platforms: Platforms) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {**platforms.env, "TELEGRAM_API_BASE": f"http://127.0.0.1:{closed}"}

    code, out, err = await _doctor(env)

    checks = _lines(out)
    assert code == 1
    assert checks["telegram"][0] == "FAIL"
    assert checks["telegram"][1].startswith("cannot reach Telegram: ConnectError")
    assert checks["telegram webhook"] == ("skip", "needs getMe to answer")
    _no_secret(platforms, out, err)


async def test_a_webhook_that_is_not_ours_fails(platforms: Platforms) -> None:
    await _set_webhook(platforms.telegram, "https://elsewhere.example/hook")

    code, out, _ = await _doctor(platforms.env)

    assert code == 1
    status, detail = _lines(out)["telegram webhook"]
    assert status == "FAIL"
    assert detail.startswith(f"the webhook is https://elsewhere.example/hook, not {WEBHOOK}")


async def test_pending_updates_with_a_recent_delivery_error_fail_an_old_error_does_not(
    platforms: Platforms,
) -> None:
    fake = platforms.telegram
    for chat in (1, 2, 3):
        fake.queue_update(fake.text_update(chat, "hello"))
    now = int(datetime.now(UTC).timestamp())
    fake.webhook_failed("Connection refused", date=now - 150)

    code, out, _ = await _doctor(platforms.env)
    fake.webhook_failed("Connection refused", date=now - 3 * 86400)
    later_code, later, _ = await _doctor(platforms.env)

    assert code == 1
    assert _lines(out)["telegram webhook"] == (
        "FAIL",
        "its last delivery failed 2 min ago: Connection refused; 3 updates waiting",
    )
    assert later_code == 0
    assert _lines(later)["telegram webhook"] == (
        "ok",
        f"{WEBHOOK}, 3 updates waiting; its last delivery failed 3 days ago: Connection refused",
    )


async def test_a_recent_delivery_error_with_nothing_waiting_is_a_warning(
    platforms: Platforms,
) -> None:
    """One failed delivery while serve restarted, and Telegram delivered since: the doctor
    a runbook runs right after `up -d` says so without failing."""
    now = int(datetime.now(UTC).timestamp())
    platforms.telegram.webhook_failed("Connection refused", date=now - 150)

    code, out, _ = await _doctor(platforms.env)

    assert code == 0
    assert _lines(out)["telegram webhook"] == (
        "warn",
        f"{WEBHOOK}, 0 updates waiting; its last delivery failed 2 min ago: Connection refused",
    )


async def test_polling_with_a_webhook_still_set_fails(platforms: Platforms) -> None:
    env = {k: v for k, v in platforms.env.items() if k != "PUBLIC_BASE_URL"}

    code, out, _ = await _doctor(env)

    assert code == 1
    status, detail = _lines(out)["telegram webhook"]
    assert status == "FAIL"
    assert detail.startswith(f"a webhook is set ({WEBHOOK}) though PUBLIC_BASE_URL is unset")


async def test_a_whatsapp_token_meta_refuses_fails_with_code_190(platforms: Platforms) -> None:
    wrong = {**platforms.env, "WHATSAPP_TOKEN": "not-the-token-0123"}

    code, out, err = await _doctor(wrong)
    platforms.whatsapp.expire_token()
    expired_code, expired, _ = await _doctor(platforms.env)

    assert code == expired_code == 1
    status, detail = _lines(out)["whatsapp"]
    assert status == "FAIL"
    assert detail.startswith("Meta does not accept WHATSAPP_TOKEN (code 190: Invalid OAuth")
    assert "RUNBOOK.md: WhatsApp token expired" in detail
    assert "not-the-token-0123" not in out + err
    assert "(code 190: Error validating access token: Session has expired" in expired
    _no_secret(platforms, expired)


async def test_a_phone_number_id_meta_does_not_know_fails(platforms: Platforms) -> None:
    env = {**platforms.env, "WHATSAPP_PHONE_NUMBER_ID": "999"}

    code, out, _ = await _doctor(env)

    assert code == 1
    status, detail = _lines(out)["whatsapp"]
    assert (status, detail.split(" (")[0]) == (
        "FAIL",
        "WHATSAPP_PHONE_NUMBER_ID: Meta knows no such number for this token",
    )


async def test_whatsapp_without_its_reminder_template_fails(platforms: Platforms) -> None:
    env = {k: v for k, v in platforms.env.items() if k != "WHATSAPP_REMINDER_TEMPLATE"}

    code, out, _ = await _doctor(env)

    assert code == 1
    status, detail = _lines(out)["whatsapp templates"]
    assert status == "FAIL"
    assert detail.startswith("WHATSAPP_REMINDER_TEMPLATE is not set")


async def test_a_calendar_salonbot_cannot_write_fails_on_its_own_line(
    platforms: Platforms,
) -> None:
    platforms.google.add_calendar(OLGA, access="reader")

    code, out, _ = await _doctor(platforms.env)

    checks = _lines(out)
    assert code == 1
    assert checks["google maria"] == ("ok", f"{MARIA}: writable")
    assert checks["google olga"][0] == "FAIL"
    assert checks["google olga"][1].startswith(f"{OLGA}: cannot write: no permission")
    assert "PRIVATE KEY" not in out


async def test_settings_serve_would_refuse_fail(platforms: Platforms) -> None:
    env = {k: v for k, v in platforms.env.items() if k != "TELEGRAM_WEBHOOK_SECRET"}

    code, out, _ = await _doctor(env)

    assert code == 1
    assert _lines(out)["settings"] == (
        "FAIL",
        "TELEGRAM_WEBHOOK_SECRET: required when PUBLIC_BASE_URL is set (webhook mode)",
    )


async def test_a_database_at_an_older_revision_fails_and_is_left_as_it_is(
    fresh_database: Any, tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(upgrade, url, "0012")
    env = _environment(url, tmp_path)

    code, out, err = await _doctor(env)

    checks = _lines(out)
    assert code == 1
    status, detail = checks["database"]
    assert status == "FAIL"
    assert detail.startswith("reachable, but the schema is at 0012 and this salonbot needs 00")
    assert detail.endswith("run `salonbot migrate` (serve also migrates when it starts)")
    assert checks["catalog"][0] == "FAIL"
    assert err == "salonbot: 2 checks failed\n"
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(sql("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert revision == "0012"  # looked at, not migrated


async def test_a_database_never_migrated_fails_and_stays_empty(
    fresh_database: Any, tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)

    code, out, _ = await _doctor(_environment(url, tmp_path))

    checks = _lines(out)
    assert code == 1
    assert checks["database"][0] == "FAIL"
    assert checks["database"][1].startswith("reachable, but no schema yet and this salonbot needs")
    assert checks["catalog"][0] == "FAIL"
    assert checks["clock"][0] == "ok"  # the connection survived the failed looks
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            tables = await connection.scalar(
                sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
    finally:
        await engine.dispose()
    assert tables == 0


async def test_no_catalog_fails(fresh_database: Any, tmp_path: Path) -> None:
    url = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(upgrade, url)
    env = _environment(url, tmp_path)

    code, out, _ = await _doctor(env)

    checks = _lines(out)
    assert code == 1
    assert checks["database"][0] == "ok"
    assert checks["catalog"] == (
        "FAIL",
        "no catalog is loaded yet: run `salonbot catalog load FILE`",
    )
    # Nothing configured: the settings say so, and no platform is checked.
    assert checks["settings"][0] == "warn"
    assert list(checks) == ["settings", "database", "clock", "catalog"]


async def test_a_database_that_cannot_be_reached_fails_without_its_password(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens once the probe is closed
    url = f"postgresql://salonbot:s3cret-password@127.0.0.1:{closed}/salonbot"
    env = _environment(url, tmp_path)

    code, out, err = await _doctor(env)

    checks = _lines(out)
    assert code == 1
    assert checks["database"][0] == "FAIL"
    assert checks["database"][1].startswith("cannot use it: ")
    assert checks["clock"] == checks["catalog"] == ("skip", "needs the database")
    assert "s3cret-password" not in out + err


class OffsetClock:
    """This machine's clock, ``offset`` off."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.mark.parametrize(
    ("offset", "status", "detail"),
    [
        (timedelta(seconds=12), Status.FAIL, "12.0 s ahead of the database's"),
        (timedelta(seconds=-30), Status.FAIL, "30.0 s behind the database's"),
        (timedelta(seconds=3), Status.OK, "3.0 s ahead of the database's"),
    ],
)
async def test_a_clock_more_than_five_seconds_off_the_databases_fails(
    database_url: str, offset: timedelta, status: Status, detail: str
) -> None:
    look = await look_at_database(database_url, OffsetClock(offset), 10.0)

    [clock] = [finding for finding in look.findings if finding.check == "clock"]
    assert clock.status is status
    # Within a tenth of a second: the round trip to the database blurs the last digit.
    shown = float(clock.detail.split(" s ")[0])
    assert abs(shown - float(detail.split(" s ")[0])) <= 0.1
    assert clock.detail.split(" s ")[1].startswith(detail.split(" s ")[1])


async def test_every_check_is_bounded_in_time(platforms: Platforms) -> None:
    platforms.telegram.slow(3)
    with environment(platforms.env):
        settings = Settings()

    findings: list[Finding] = []
    started = asyncio.get_running_loop().time()
    async for finding in diagnose(settings, settings.database_url, within=0.5):
        findings.append(finding)
        if finding.check == "telegram":
            break
    took = asyncio.get_running_loop().time() - started

    assert findings[-1] == Finding("telegram", Status.FAIL, "no answer within 0.5 s")
    assert took < 2.5


def test_a_database_password_is_masked_as_written_and_as_meant() -> None:
    url = "postgresql://salonbot:p%40ss-word-1@db.example:5432/salonbot"
    with environment({"DATABASE_URL": url}):
        mask = Masked(Settings())

    line = mask("cannot use it: postgresql://salonbot:p%40ss-word-1@db.example, p@ss-word-1")

    assert line == "cannot use it: postgresql://salonbot:***@db.example, ***"
