"""Google Calendar read back: a full import of the staff's calendars, and the free-slot
search with the busy time it brings.

(i) The import: 5 calendars of 500 events each (timed, all-day, instances of weekly
recurring events, some shown as free) in the fake Calendar API
(``tests/fakes/google_calendar.py``, over HTTP in this process), read by the real client
(google-api-python-client, the OAuth JWT flow, in threads) and ``CalendarImport`` into
Postgres: the wall time of one run reading every calendar in full. The first run reads
rows just made (and fetches a token); the others read in full because a full read is
wanted, as ``salonbot google resync`` asks. Target: median under 10 s.

(ii) The free-slot search a chat customer runs (``FindSlots``: the 45-minute service,
30 days from tomorrow, any of the 5 staff) with that busy time, against the same search
in the same salon without it (the baseline, in the same run: the two alternate in rounds,
the busy time taken away and put back between them). Target: median under 20 ms.

    uv run python -m bench.google_calendar_import [--calendars 5] [--events 500]
        [--runs 5] [--searches 60]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from tests.fakes.google_calendar import FakeGoogleCalendar

from adapters.google_calendar.client import GoogleCalendars
from bench.setup import FIVE_STAFF, NOW, bench_salon, summary, timed
from core.db.calendar_sync_repository import CalendarSyncRepository
from core.domain.availability import SlotQuery
from core.services.calendar_import import CalendarImport, ImportRun
from salonbot.bootstrap import Salonbot

BERLIN = ZoneInfo("Europe/Berlin")
STAFF = 5
# Shares of a calendar's events (what a read lists, recurring events as instances).
RECURRING, ALL_DAY, FREE = 0.14, 0.10, 0.16
WEEKS = 14  # instances of one weekly series: they all fall in the read's window
ROUNDS = 6


def calendar_of(staff: int) -> str:
    return f"s{staff}@group.calendar.google.com"


def linked_catalog(calendars: int) -> str:
    """The five-stylist salon, the first ``calendars`` with their Google Calendar."""
    catalog = FIVE_STAFF
    for staff in range(1, calendars + 1):
        name = f"    name: Stylist {staff}\n"
        catalog = catalog.replace(name, f"{name}    google_calendar: {calendar_of(staff)}\n")
    return catalog


@dataclass(frozen=True, slots=True)
class Mix:
    """How many of a calendar's listed events are of each kind."""

    timed: int
    all_day: int
    free: int
    series: tuple[int, ...]  # instances of each weekly series

    @classmethod
    def of(cls, events: int) -> Mix:
        recurring = round(events * RECURRING)
        series = tuple(
            min(WEEKS, recurring - WEEKS * n) for n in range(math.ceil(recurring / WEEKS))
        )
        all_day, free = round(events * ALL_DAY), round(events * FREE)
        return cls(events - recurring - all_day - free, all_day, free, series)

    @property
    def busy(self) -> int:
        """The events that make the staff member busy (all but the free ones)."""
        return self.timed + self.all_day + sum(self.series)


def _timed(start: datetime, minutes: int, **more: Any) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {
        "summary": "Own",
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Berlin"},
        **more,
    }


def fill(google: FakeGoogleCalendar, calendar_id: str, mix: Mix, rng: random.Random) -> None:
    """Put ``mix`` in the calendar as its owner would, all within a full read's window
    (tomorrow to 96 days on)."""
    today = NOW.astimezone(BERLIN).date()

    def moment(day: int, hour: int, minute: int = 0) -> datetime:
        local = today + timedelta(days=day)
        return datetime(local.year, local.month, local.day, hour, minute, tzinfo=BERLIN)

    def some_time() -> datetime:
        return moment(rng.randint(1, 96), rng.randint(8, 19), rng.choice((0, 15, 30, 45)))

    for _ in range(mix.timed):
        google.owner_put(calendar_id, _timed(some_time(), rng.choice((30, 45, 60, 90, 120))))
    for _ in range(mix.free):
        event = _timed(some_time(), rng.choice((30, 60)), transparency="transparent")
        google.owner_put(calendar_id, event)
    for _ in range(mix.all_day):
        first: date = today + timedelta(days=rng.randint(1, 95))
        after = first + timedelta(days=rng.choice((1, 1, 1, 2)))
        google.owner_put(
            calendar_id,
            {"summary": "Away", "start": {"date": str(first)}, "end": {"date": str(after)}},
        )
    for count in mix.series:
        start = moment(rng.randint(1, 6), rng.randint(8, 18))
        weekly = _timed(start, 60, recurrence=[f"RRULE:FREQ=WEEKLY;COUNT={count}"])
        google.owner_put(calendar_id, weekly)


@dataclass(frozen=True, slots=True)
class Measured:
    where: str
    calendars: int
    mix: Mix
    imports: list[float]  # ms, the first run first
    lists: int  # events.list calls of one run
    busy_rows: int
    without: list[float]  # ms of free-slot searches without the imported busy time
    with_busy: list[float]  # ... and with it
    slots_without: int
    slots_with: int


async def _want_full_reads(app: Salonbot) -> None:
    async with app.uow() as uow:
        repository = CalendarSyncRepository(uow.connection)
        ids = await repository.staff_with_calendars([f"s{n}" for n in range(1, STAFF + 1)])
        await repository.want(ids.values(), app.clock.now(), full=True)
        await uow.commit()


_BUSY_TIME = {
    "keep aside": "CREATE TABLE bench_busy AS SELECT * FROM calendar_busy",
    "take away": "DELETE FROM calendar_busy",
    "put back": "INSERT INTO calendar_busy SELECT * FROM bench_busy",
}


async def _busy_time(app: Salonbot, step: str) -> None:
    """The imported busy time kept aside in a table of the bench's own, taken away, or
    put back as it was (the throwaway database goes with the run)."""
    async with app.engine.begin() as connection:
        await connection.execute(text(_BUSY_TIME[step]))
        await connection.execute(text("ANALYZE calendar_busy"))


async def _busy_rows(app: Salonbot) -> int:
    async with app.uow() as uow:
        found = await uow.connection.execute(text("SELECT count(*) FROM calendar_busy"))
        return int(found.scalar_one())


async def measure(
    calendars: int = STAFF, events: int = 500, runs: int = 5, searches: int = 60
) -> Measured:
    if not 1 <= calendars <= STAFF:
        raise ValueError(f"calendars: 1 to {STAFF}")
    mix = Mix.of(events)
    where = (
        "BENCH_DATABASE_URL's Postgres"
        if os.environ.get("BENCH_DATABASE_URL")
        else "embedded Postgres (pgserver, Unix socket)"
    )
    async with FakeGoogleCalendar() as google:
        rng = random.Random(13)
        for staff in range(1, calendars + 1):
            google.add_calendar(calendar_of(staff), time_zone="Europe/Berlin")
            fill(google, calendar_of(staff), mix, rng)
        key = google.service_account_info()
        async with bench_salon(catalog=linked_catalog(calendars)) as salon:
            linked = Salonbot(
                salon.engine,
                salon.clock,
                linked_calendars=GoogleCalendars(key, api_base=google.base_url),
            )
            assert linked.calendar_import is not None
            importer: CalendarImport = linked.calendar_import
            first_day = (NOW + timedelta(days=1)).date()
            query = SlotQuery("cut", first_day, first_day + timedelta(days=29))

            async def find() -> None:
                await linked.find_slots(query)

            await timed(find, 5)  # warm the pool and the catalog cache
            slots_without = len(await linked.find_slots(query))

            imports: list[float] = []
            lists = 0
            for run in range(runs):
                if run:
                    await _want_full_reads(linked)
                calls = len(google.calls)
                started = time.perf_counter()
                outcome = await importer.run()
                imports.append((time.perf_counter() - started) * 1000)
                assert outcome == ImportRun(read=calendars), outcome
                lists = len(google.calls) - calls
            busy_rows = await _busy_rows(linked)
            assert busy_rows == calendars * mix.busy, (busy_rows, mix)
            slots_with = len(await linked.find_slots(query))

            # Searches with and without the busy time alternate in rounds, so the
            # machine's drift falls on both alike.
            await _busy_time(linked, "keep aside")
            without: list[float] = []
            with_busy: list[float] = []
            rounds = min(ROUNDS, searches)
            for _ in range(rounds):
                await _busy_time(linked, "take away")
                await timed(find, 2)
                without += await timed(find, searches // rounds)
                await _busy_time(linked, "put back")
                await timed(find, 2)
                with_busy += await timed(find, searches // rounds)
            assert await _busy_rows(linked) == busy_rows
    return Measured(
        where,
        calendars,
        mix,
        imports,
        lists,
        busy_rows,
        without,
        with_busy,
        slots_without,
        slots_with,
    )


def report(run: Measured) -> list[str]:
    mix = run.mix
    events = mix.timed + mix.all_day + mix.free + sum(mix.series)
    seconds = [ms / 1000 for ms in run.imports]
    ratio = statistics.median(run.with_busy) / statistics.median(run.without)
    return [
        f"database: {run.where}; started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"calendars: {run.calendars} x {events} events listed ({mix.timed} timed, "
        f"{mix.all_day} all-day, {sum(mix.series)} instances of {len(mix.series)} weekly "
        f"series, {mix.free} shown as free); {run.lists} events.list calls a run",
        f"full import, all calendars: median {statistics.median(seconds):.2f} s, "
        f"{run.calendars * events / statistics.median(seconds):,.0f} events/s "
        f"(runs: {', '.join(f'{s:.2f}' for s in seconds)} s; the first fetches a token)",
        f"busy time kept: {run.busy_rows} rows",
        f"free slots 30 days, without busy time: {summary(run.without)} "
        f"({run.slots_without} slots)",
        f"free slots 30 days, with busy time:    {summary(run.with_busy)} ({run.slots_with} slots)",
        f"ratio (median): {ratio:.2f}x without",
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.google_calendar_import")
    parser.add_argument("--calendars", type=int, default=STAFF)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--searches", type=int, default=60)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    run = asyncio.run(measure(args.calendars, args.events, args.runs, args.searches))
    print("\n".join(report(run)))


if __name__ == "__main__":
    main()
