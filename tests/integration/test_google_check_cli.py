"""``salonbot google check`` against the fake Calendar API, the key made in the test."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import edited, put
from tests.cli_run import cli_environment, salonbot
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar

MARIA = "maria@group.calendar.google.com"
OLGA = "olga@group.calendar.google.com"


async def _link_calendars(app: Salonbot, clock: FakeClock) -> None:
    text = edited(
        put("staff", 1, "google_calendar", value=MARIA),
        put("staff", 2, "google_calendar", value=OLGA),
    )
    document, _ = load_catalog_text(text)
    await load_catalog(app.uow, clock, document)


async def _check(env: dict[str, str]) -> tuple[int, str, str]:
    return await asyncio.to_thread(salonbot, env, "google", "check")


async def test_every_linked_calendar_gets_a_line_and_a_failure_exits_1(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await _link_calendars(app, clock)
    async with FakeGoogleCalendar() as fake:
        fake.add_calendar(MARIA)
        fake.add_calendar(OLGA)
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(fake.service_account_info()))
        env = cli_environment(database_url, tmp_path / "data")
        env.update(
            GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file), GOOGLE_CALENDAR_API_BASE=fake.base_url
        )

        code, out, err = await _check(env)
        assert (code, err) == (0, "")
        assert out.splitlines() == [f"maria  {MARIA}  ok", f"olga  {OLGA}  ok"]
        assert fake.events(MARIA) == []
        assert fake.events(OLGA) == []

        fake.add_calendar(OLGA, access="reader")
        code, out, err = await _check(env)
        assert code == 1
        maria, olga = out.splitlines()
        assert maria == f"maria  {MARIA}  ok"
        assert olga.startswith(f"olga  {OLGA}  cannot write: no permission")
        assert err == "salonbot: 1 of 2 calendars cannot be written\n"
        assert "PRIVATE KEY" not in out + err


async def test_without_the_key_file_setting_it_says_what_to_set(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await _link_calendars(app, clock)
    env = cli_environment(database_url, tmp_path / "data")
    env.pop("GOOGLE_SERVICE_ACCOUNT_FILE", None)

    code, out, err = await _check(env)

    assert (code, out) == (1, "")
    assert err.startswith("salonbot: GOOGLE_SERVICE_ACCOUNT_FILE is not set")
