"""Google Calendar: bookings pushed to the staff's calendars, as ``salonbot serve`` does it.

salonbot's pieces run as serve builds them: a ``Salonbot`` with ``GoogleCalendars`` (the
real google-api-python-client, in threads, with a service-account key file made here, so
the OAuth JWT flow runs) pointed over HTTP at the fake Calendar API
(``tests/fakes/google_calendar.py``), and the real ``Scheduler``: its 2 s tick and its
listener, which wakes the pusher when the database announces a queued push. The bookings
are made by another ``Salonbot`` on its own engine (as a chat in another process would),
through the booking use case; only the database connects the two.

1. **Sync lag**, from a booking's commit (``book`` returned) to its event applied on the
   fake (the fake's own clock of the insert), one booking at a time: p50/p95. Target
   (issue 13): p95 under 2 s. Baselines in the same run: the adapter's own insert round
   trip (``GoogleCalendars.put`` straight to the fake), and the lag with the tick alone
   (no wake: what the pusher did before).
2. **Pushes under timeouts**: ``--pushes`` bookings (five staff, each their calendar)
   while the fake hangs ``--hang-share`` of the inserts after applying them, past the
   client's timeout (the client gives up, the push is retried, Google answers 409, the
   event is patched). Checked: exactly one event per booking, on its staff member's
   calendar, none inserted twice, the queue drained with nothing parked; the exit status
   is 1 when a check fails. Baseline in the same run: the same bookings with no hang.

    uv run python -m bench.google_calendar [--lag 200] [--tick-only 30] [--pushes 1000]

Database: the embedded Postgres, or ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from tests.fakes.google_calendar import FakeGoogleCalendar

from adapters.google_calendar.client import GoogleCalendars
from bench.setup import NOW, bench_salon
from core.domain.booking import Actor, Booking
from core.linked_calendars.ports import EventDraft, event_id
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.scheduler import CALENDARS_EVERY, Scheduler

STAFF = 5
BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = "s{}@bench.calendar.google.com"
CATALOG = """
salon: {name: Bench, timezone: Europe/Berlin, languages: [en], currency: EUR}
policies: {min_notice: 1h, booking_horizon: 90d, slot_step: 15m, hold_ttl: 10m}
services:
  - {id: cut, name: {en: Cut}, duration: 15m, price: 30}
staff:
""" + "".join(
    f"""  - id: s{i}
    name: Stylist {i}
    services: [cut]
    google_calendar: {CALENDAR.format(i)}
    hours: {{mon: ["09:00-19:00"], tue: ["09:00-19:00"], wed: ["09:00-19:00"],
            thu: ["09:00-19:00"], fri: ["09:00-19:00"], sat: ["09:00-19:00"]}}
"""
    for i in range(1, STAFF + 1)
)
TICK = CALENDARS_EVERY
WAIT_FOR_EVENT = 15.0  # seconds one booking's event may take before the run fails
WAIT_FOR_ALL = 600.0


class MovingClock:
    """The benchmarks' Monday morning, moving on in real time (so retries fall due)."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def now(self) -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - self._started)


def free_slots(count: int, skip: int = 0) -> list[tuple[str, datetime]]:
    """``count`` distinct (staff, start) of the salon's working time from Monday on, the
    staff members taken in turn, the first ``skip`` left out (used by an earlier part)."""
    found: list[tuple[str, datetime]] = []
    day: date = NOW.astimezone(BERLIN).date()
    while len(found) < skip + count:
        if day.weekday() < 6:
            for quarter in range(40):  # 09:00 to 18:45
                at = datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN)
                start = (at + timedelta(minutes=15 * quarter)).astimezone(UTC)
                found += [(f"s{n}", start) for n in range(1, STAFF + 1)]
        day += timedelta(days=1)
    return found[skip : skip + count]


@dataclass
class Served:
    """salonbot as serve runs it, against the fake: who books and who pushes."""

    fake: FakeGoogleCalendar
    booker: Salonbot
    pusher: Salonbot
    calendars: GoogleCalendars
    booked: list[Booking] = field(default_factory=list)

    async def book(self, staff_key: str, start: datetime) -> Booking:
        booking = await self.booker.bookings.book(
            "cut", start, Actor.staff("bench"), staff_key=staff_key
        )
        self.booked.append(booking)
        return booking


@contextlib.asynccontextmanager
async def served(*, wake: bool, client_timeout: float, tick: float = TICK) -> AsyncIterator[Served]:
    clock = MovingClock()
    async with FakeGoogleCalendar() as fake, bench_salon(catalog=CATALOG, clock=clock) as booker:
        for n in range(1, STAFF + 1):
            fake.add_calendar(CALENDAR.format(n))
        fake.add_calendar("baseline@bench.calendar.google.com")
        with tempfile.TemporaryDirectory(prefix="salonbot-bench-key-") as keys:
            key_file = Path(keys) / "key.json"
            key_file.write_text(json.dumps(fake.service_account_info()))
            calendars = GoogleCalendars.from_key_file(
                key_file, api_base=fake.base_url, timeout=client_timeout
            )
        url = booker.engine.url.render_as_string(hide_password=False)
        pusher = Salonbot(make_engine(url, pool_size=10), clock, linked_calendars=calendars)
        scheduler = Scheduler(
            pusher,
            Wakeup(),
            visits_every=3600,
            agendas_every=3600,
            calendars_every=tick,
            wake_pushes=wake,
        )
        scheduler.start()
        try:
            notices = scheduler.push_notices
            for _ in range(500):
                if notices is None or notices.listening:
                    break
                await asyncio.sleep(0.01)
            yield Served(fake, booker, pusher, calendars)
        finally:
            await scheduler.stop()
            await pusher.close()


async def _event_applied(fake: FakeGoogleCalendar, event: str) -> float:
    deadline = time.monotonic() + WAIT_FOR_EVENT
    while event not in fake.inserted_at:
        if time.monotonic() > deadline:
            raise AssertionError(f"event {event} not pushed within {WAIT_FOR_EVENT} s")
        await asyncio.sleep(0.002)
    return fake.inserted_at[event]


async def put_round_trips(salon: Served, runs: int) -> list[float]:
    """Baseline: the adapter's insert straight to the fake, milliseconds each."""
    samples = []
    for n in range(runs):
        start = NOW + timedelta(days=1, minutes=15 * n)
        draft = EventDraft(
            event_id(900_000 + n), 900_000 + n, "Cut", "", start, start + timedelta(minutes=15),
            "Europe/Berlin",
        )  # fmt: skip
        started = time.monotonic()
        await salon.calendars.put("baseline@bench.calendar.google.com", draft)
        samples.append((time.monotonic() - started) * 1000)
    return samples


async def lags(
    salon: Served, slots: Sequence[tuple[str, datetime]], *, pause: float
) -> list[float]:
    """Milliseconds from each booking's commit to its event applied on the fake. Each
    booking comes a random pause (up to ``pause`` seconds) after the last one's event, so
    the bookings fall anywhere between two ticks, as a salon's do."""
    draw = random.Random(29)
    samples = []
    for staff_key, start in slots:
        await asyncio.sleep(draw.uniform(0, pause))
        booking = await salon.book(staff_key, start)
        committed = time.monotonic()
        applied = await _event_applied(salon.fake, event_id(booking.id))
        samples.append((applied - committed) * 1000)
    return samples


@dataclass(frozen=True)
class Drained:
    """Pushing ``count`` bookings: seconds from the first booking to the last event,
    what the fake did, and what went wrong (empty: every check passed)."""

    count: int
    seconds: float
    booking_seconds: float
    hung: int
    retried: int
    problems: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.count / self.seconds


async def push_many(
    count: int, *, hang_share: float, client_timeout: float, tick: float = TICK
) -> Drained:
    """``count`` bookings, five at a time (one per staff member), while the pushes run
    (a retried one at the tick after it falls due)."""
    async with served(wake=True, client_timeout=client_timeout, tick=tick) as salon:
        salon.fake.hang_share_of_inserts(hang_share, client_timeout * 2, seed=13)
        slots = free_slots(count)
        started = time.monotonic()

        async def book_for(staff_key: str) -> None:
            for key, start in slots:
                if key == staff_key:
                    await salon.book(key, start)

        await asyncio.gather(*(book_for(f"s{n}") for n in range(1, STAFF + 1)))
        booked_in = time.monotonic() - started
        deadline = time.monotonic() + WAIT_FOR_ALL
        while len(salon.fake.inserted_at) < count or await _open_pushes(salon.booker):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        last = max(salon.fake.inserted_at.values(), default=started)
        retried = await _scalar(
            salon.booker, "SELECT count(*) FROM calendar_pushes WHERE attempts > 1"
        )
        return Drained(
            count,
            last - started,
            booked_in,
            salon.fake.inserts_hung,
            retried,
            tuple(await _problems(salon)),
        )


async def _scalar(app: Salonbot, sql: str) -> int:
    async with app.engine.connect() as connection:
        return int(await connection.scalar(text(sql)) or 0)


async def _open_pushes(app: Salonbot) -> int:
    return await _scalar(
        app, "SELECT count(*) FROM calendar_pushes WHERE done_at IS NULL AND parked_at IS NULL"
    )


async def _problems(salon: Served) -> list[str]:
    """What is wrong: each booking's event exactly once, on its own staff member's
    calendar; no insert applied twice; the queue drained, nothing parked."""
    problems = []
    expected = {event_id(b.id): CALENDAR.format(b.staff_key[1:]) for b in salon.booked}
    found: dict[str, list[str]] = {}
    for n in range(1, STAFF + 1):
        for event in salon.fake.events(CALENDAR.format(n)):
            found.setdefault(event["id"], []).append(CALENDAR.format(n))
    events = sum(len(where) for where in found.values())
    if events != len(expected):
        problems.append(f"{events} events for {len(expected)} bookings")
    twice = [e for e, where in found.items() if len(where) > 1]
    if twice:
        problems.append(f"{len(twice)} events on more than one calendar")
    misplaced = [e for e, calendar in expected.items() if found.get(e) != [calendar]]
    if misplaced:
        problems.append(f"{len(misplaced)} bookings without their one event on their calendar")
    inserted = set(salon.fake.inserted_at)
    if inserted != set(expected):
        problems.append(f"{len(inserted)} inserts applied for {len(expected)} bookings")
    if left := await _open_pushes(salon.booker):
        problems.append(f"{left} pushes still open")
    if parked := await _scalar(
        salon.booker, "SELECT count(*) FROM calendar_pushes WHERE parked_at IS NOT NULL"
    ):
        problems.append(f"{parked} pushes parked")
    return problems


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def line(name: str, samples: Sequence[float]) -> str:
    return (
        f"{name}: p50 {statistics.median(samples):7.1f} ms  p95 {percentile(samples, 0.95):7.1f}"
        f" ms  max {max(samples):7.1f} ms  (n={len(samples)})"
    )


@dataclass(frozen=True)
class Run:
    round_trips: list[float]
    lag: list[float]
    tick_only: list[float]
    calm: Drained | None
    stormy: Drained | None

    @property
    def failed(self) -> bool:
        drained = [d for d in (self.calm, self.stormy) if d is not None]
        return any(d.problems for d in drained)


async def measure(args: argparse.Namespace) -> Run:
    async with served(wake=True, client_timeout=args.timeout) as salon:
        await put_round_trips(salon, 5)  # the token, the threads' connections
        round_trips = await put_round_trips(salon, args.round_trips)
        await lags(salon, free_slots(3), pause=0)  # warm the pools and the catalog cache
        lag = await lags(salon, free_slots(args.lag, skip=3), pause=TICK / 20)
    tick_only: list[float] = []
    if args.tick_only:
        async with served(wake=False, client_timeout=args.timeout) as salon:
            tick_only = await lags(salon, free_slots(args.tick_only), pause=TICK)
    calm = stormy = None
    if args.pushes:
        calm = await push_many(args.pushes, hang_share=0.0, client_timeout=args.timeout)
        stormy = await push_many(
            args.pushes, hang_share=args.hang_share, client_timeout=args.timeout
        )
    # The import benchmarks go here when they join this script (issue 13): a full import
    # of 5 calendars x 500 events, target under 10 s; the free-slot search (30 days, 5
    # staff) with that imported busy time, target median under 20 ms. Meanwhile they are
    # measured on their own by bench/google_calendar_import.py.
    return Run(round_trips, lag, tick_only, calm, stormy)


def report(run: Run) -> str:
    lines = [
        line("adapter insert round trip (baseline)", run.round_trips),
        line("sync lag, woken at commit          ", run.lag),
    ]
    if run.tick_only:
        lines.append(line("sync lag, 2 s tick only (baseline) ", run.tick_only))
    ratio = percentile(run.lag, 0.95) / percentile(run.round_trips, 0.95)
    lines.append(f"lag p95 / round trip p95: {ratio:.1f}x")
    for name, drained in (("no hangs (baseline)", run.calm), ("hangs", run.stormy)):
        if drained is None:
            continue
        verdict = "passed" if not drained.problems else "FAILED: " + "; ".join(drained.problems)
        lines.append(
            f"{drained.count} bookings pushed, {name}: last event {drained.seconds:.1f} s after"
            f" the first booking ({drained.rate:.0f}/s; booked in {drained.booking_seconds:.1f}"
            f" s); inserts hung {drained.hung}, pushes retried {drained.retried}; checks {verdict}"
        )
    if run.calm is not None and run.stormy is not None:
        lines.append(
            f"drain time with hangs / without: {run.stormy.seconds / run.calm.seconds:.1f}x"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.google_calendar")
    parser.add_argument("--lag", type=int, default=200, help="bookings timed one by one")
    parser.add_argument("--tick-only", type=int, default=30, help="the same, tick only")
    parser.add_argument("--round-trips", type=int, default=50)
    parser.add_argument("--pushes", type=int, default=1000, help="bookings pushed at once")
    parser.add_argument("--hang-share", type=float, default=0.1)
    parser.add_argument(
        "--timeout", type=float, default=1.0, help="the client's timeout; a hang is twice it"
    )
    return parser


async def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Each hung insert is a retried push, logged as a warning: hundreds of lines here.
    logging.disable(logging.WARNING)
    run = await measure(args)
    print(report(run))
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
