"""``salonbot doctor``: can this installation take bookings? One line per check.

Each check is bounded in time (``CHECK_WITHIN``) and says ``ok``, ``warn`` (works, but look),
``FAIL`` (something a customer or the salon will notice) or ``skip`` (it needs what failed
before). Nothing is changed, except that the Google check writes and deletes a probe event,
as ``salonbot google check`` does. No secret is ever printed: every line is masked
(``Masked``) whatever a platform's answer quotes.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.ports import Clock, SystemClock
from salonbot.config import Settings

CHECK_WITHIN = 10.0  # seconds, per check


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status.value:<5} {self.check}: {self.detail}"


class Masked:
    """Every secret of the settings replaced by ``***`` in a line."""

    def __init__(self, settings: Settings) -> None:
        secrets = [
            value.get_secret_value()
            for value in (
                settings.telegram_bot_token,
                settings.telegram_webhook_secret,
                settings.whatsapp_token,
                settings.whatsapp_app_secret,
                settings.whatsapp_verify_token,
                settings.metrics_token,
            )
            if value is not None
        ]
        if settings.telegram_bot_token is not None:  # its secret half, quoted alone
            secrets.append(settings.telegram_bot_token.get_secret_value().partition(":")[2])
        if settings.database_url:
            secrets += _passwords(settings.database_url)
        # Longest first: a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line


def _passwords(url: str) -> list[str]:
    """The database URL's password as written (percent-encoded) and as meant; the whole
    URL when it does not parse (the database check then says why)."""
    try:
        return [urlsplit(url).password or "", make_url(url).password or ""]
    except (ArgumentError, ValueError):
        return [url]


def settings_finding(settings: Settings) -> Finding:
    """What ``salonbot serve`` would refuse to start with, or what runs."""
    from salonbot.serve import ServeError, check_settings

    try:
        check_settings(settings)
    except ServeError as error:
        return Finding("settings", Status.FAIL, str(error))
    if settings.telegram_bot_token is None:
        telegram = "off"
    else:
        telegram = "webhook" if settings.public_base_url else "polling"
    whatsapp = "on" if settings.whatsapp_on else "off"
    google = "on" if settings.google_service_account_file is not None else "off"
    metrics = [
        f"port {settings.metrics_host}:{settings.metrics_port}" if settings.metrics_port else "",
        "token" if settings.metrics_token is not None else "",
    ]
    shown = " and ".join(m for m in metrics if m) or "off"
    detail = f"telegram {telegram}, whatsapp {whatsapp}, google {google}, metrics {shown}"
    if telegram == whatsapp == "off":
        return Finding(
            "settings",
            Status.WARN,
            f"{detail}: no chat channel, only the staff pages run"
            " (set TELEGRAM_BOT_TOKEN or WHATSAPP_*)",
        )
    return Finding("settings", Status.OK, detail)


async def bounded(
    check: str, look: Callable[[], Awaitable[list[Finding]]], within: float = CHECK_WITHIN
) -> list[Finding]:
    """``look``'s findings, or one FAIL when it takes longer than ``within``."""
    try:
        async with asyncio.timeout(within):
            return await look()
    except TimeoutError:
        return [Finding(check, Status.FAIL, f"no answer within {within:g} s")]


async def diagnose(
    settings: Settings,
    database_url: str | None,
    database_problem: str | None = None,
    *,
    clock: Clock | None = None,
    within: float = CHECK_WITHIN,
) -> AsyncIterator[Finding]:
    """Every check's finding, in order, as soon as it is known. ``database_url`` is None
    when the database cannot even be located (``database_problem`` says why)."""
    from salonbot.doctor_database import look_at_database
    from salonbot.doctor_platforms import google_findings, telegram_findings, whatsapp_findings

    clock = clock or SystemClock()
    yield settings_finding(settings)
    if database_url is None:
        yield Finding("database", Status.FAIL, database_problem or "not configured")
        yield Finding("clock", Status.SKIP, "needs the database")
        yield Finding("catalog", Status.SKIP, "needs the database")
        looked = None
    else:
        looked = await look_at_database(database_url, clock, within)
        for finding in looked.findings:
            yield finding
    catalog = None if looked is None else looked.catalog
    for findings in (
        telegram_findings(settings, clock, within),
        whatsapp_findings(settings, within),
        google_findings(settings, catalog, within),
    ):
        async for finding in findings:
            yield finding


def report(
    settings: Settings,
    database_url: str | None,
    database_problem: str | None = None,
    *,
    write: Callable[[str], None] = print,
) -> int:
    """Run every check, writing one masked line per finding as it comes; how many failed."""
    mask = Masked(settings)

    async def run() -> int:
        failed = 0
        async for finding in diagnose(settings, database_url, database_problem):
            write(mask(finding.line()))
            failed += finding.status is Status.FAIL
        return failed

    return asyncio.run(run())
