"""What the calendar import's tests share: the demo salon with Maria's (and Olga's) Google
Calendar, salonbot over the real client against the fake Calendar API (service-account
key made here), and reading back what the import stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.google_calendar.client import GoogleCalendars
from core.catalog.file import load_catalog_text
from core.db.calendar_seen_repository import SeenEventRepository
from core.db.tables import calendar_alerts, calendar_busy, calendar_syncs, staff
from core.linked_calendars.ports import CalendarEvent
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import Edit, edited, put
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar

MARIA = "maria@group.calendar.google.com"
OLGA = "olga@group.calendar.google.com"
BERLIN = "Europe/Berlin"
# Maria is staff 1 of the demo catalog, Olga staff 2.
WITH_MARIA = put("staff", 1, "google_calendar", value=MARIA)
WITH_OLGA = put("staff", 2, "google_calendar", value=OLGA)


class OursRecorded:
    """``OurEventsSeen`` that reconciles nothing and records whom it was asked for (the
    events stay kept: ``kept_events``)."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    async def reconcile(self, staff_key: str | None = None) -> None:
        self.asked.append(staff_key)


async def kept_events(engine: AsyncEngine) -> list[tuple[str, str, CalendarEvent]]:
    """salonbot's own events the reads kept (``calendar_seen_events``), not reconciled:
    (staff key, calendar id, event), by booking."""
    async with engine.connect() as connection:  # rolled back: nothing claimed
        claimed = await SeenEventRepository(connection).claim(
            now=datetime.now(UTC), until=datetime.now(UTC), limit=1000
        )
    return [(seen.staff_key, seen.calendar_id, seen.event) for seen in claimed]


def google_calendars(google: FakeGoogleCalendar, tmp_path: Path) -> GoogleCalendars:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(google.service_account_info()))
    return GoogleCalendars.from_key_file(key_file, api_base=google.base_url, timeout=5.0)


async def load(app: Salonbot, clock: FakeClock, *edits: Edit) -> None:
    document, _ = load_catalog_text(edited(*edits))
    await load_catalog(app.uow, clock, document)


def timed(start: datetime, minutes: int = 60, **more: Any) -> dict[str, Any]:
    """An event of the staff member's own, ``minutes`` long from ``start``."""
    return {
        "summary": "Dentist",
        "start": {"dateTime": start.isoformat(), "timeZone": BERLIN},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(), "timeZone": BERLIN},
        **more,
    }


async def busy_rows(engine: AsyncEngine) -> list[tuple[str, str, datetime, datetime]]:
    """``calendar_busy`` as (staff key, event id, start, end), in time order."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                staff.c.key,
                calendar_busy.c.event_id,
                calendar_busy.c.starts_at,
                calendar_busy.c.ends_at,
            )
            .join(staff, staff.c.id == calendar_busy.c.staff_id)
            .order_by(calendar_busy.c.starts_at, calendar_busy.c.event_id)
        )
        return [(row.key, row.event_id, row.starts_at, row.ends_at) for row in rows]


async def sync_rows(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    """``calendar_syncs`` by staff key."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(staff.c.key, calendar_syncs).join(staff, staff.c.id == calendar_syncs.c.staff_id)
        )
        return {row.key: dict(row._mapping) for row in rows}


async def alerts(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(calendar_alerts).order_by(calendar_alerts.c.id))
        return [dict(row._mapping) for row in rows]
