"""The staff web benchmark's salon and week: five people (``staff_web_salon.yaml``), a
week of bookings made one by one through the booking use case (``Bookings.book``, as the
chat and the front desk make them: staff row locks, the availability re-check, the insert
the exclusion constraint backs, the history row), and an owner who signs in.

Each stylist's day is filled from opening to closing, around the break: services they
offer, drawn at random (a fixed seed), with a gap of 0-30 minutes now and then; the
customers are a pool of regulars, most from Telegram or WhatsApp, some added at the desk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from core.calendar.hours import hours_on
from core.calendar.ports import Role
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor
from core.domain.catalog import Catalog, Staff
from core.domain.timeline import Interval
from salonbot.bootstrap import Salonbot

CATALOG = Path(__file__).with_name("staff_web_salon.yaml")
OWNER = "owner@bench.test"
PASSWORD = "bench staff web: a throwaway password"  # the bench's own throwaway database

# A stylist's bookings each day of the week, Monday first: 100 a week, 500 for five.
DAILY = (14, 14, 14, 14, 14, 20, 10)
STEP = timedelta(minutes=15)
SEED = 12

_FIRST = (
    "Olga Anna Marta Jonas Lena Pavel Sofia Mia Lukas Irina Ben Clara Nina Tomas Eva Ada"
    " Maxim Leonie Felix Vera Paul Katya Hanna Ivan Lea Oskar Yuki Amir Elif Noah"
)
_LAST = (
    "Petrova Weber Fischer Novak Ivanova Schulz Becker Hoffmann Orlova Klein Wolf Braun"
    " Smirnova Koch Richter Lange Volkova Krause Meyer Sokolova"
)


@dataclass(frozen=True)
class Week:
    monday: date
    per_day: dict[date, int]

    @property
    def bookings(self) -> int:
        return sum(self.per_day.values())

    @property
    def busiest(self) -> date:
        return max(self.per_day, key=lambda day: (self.per_day[day], day))


def week_after(today: date) -> date:
    """The Monday after ``today``: a week wholly ahead of the serving process's real clock
    (its scheduler completes visits that have ended, which would write while we measure)."""
    return today + timedelta(days=7 - today.weekday())


async def _customers(app: Salonbot, count: int, rng: random.Random) -> list[tuple[int, Actor]]:
    """``count`` customers and who books for each: themselves in chat, or the desk."""
    made: list[tuple[int, Actor]] = []
    now = app.clock.now()
    async with app.uow() as uow:
        repository = CustomerRepository(uow.connection)
        for n in range(count):
            name = f"{rng.choice(_FIRST.split())} {rng.choice(_LAST.split())}"
            phone = f"+49 15{n % 10} {1_000_000 + n * 7919 % 9_000_000}"
            channel = rng.choices(("telegram", "whatsapp", ""), weights=(6, 2, 2))[0]
            if channel:
                external = str(700_000 + n) if channel == "telegram" else phone.replace(" ", "")
                customer, _ = await repository.for_identity(
                    channel, external, now, name=name, phone=phone, language="en"
                )
                made.append((customer, Actor.customer(customer)))
            else:
                customer = await repository.add(name, now, phone=phone)
                made.append((customer, Actor.staff(OWNER)))
        await uow.commit()
    return made


def _free(catalog: Catalog, member: Staff, day: date) -> list[Interval]:
    """``member``'s working time on ``day`` outside breaks, in time order."""
    hours = hours_on(member, day, catalog.salon.zone)
    free: list[Interval] = []
    for working in hours.working:
        start = working.start
        for pause in sorted(b for b in hours.breaks if working.start < b.end):
            if pause.start >= working.end:
                break
            if pause.start > start:
                free.append(Interval(start, pause.start))
            start = max(start, pause.end)
        if start < working.end:
            free.append(Interval(start, working.end))
    return free


def plan_day(
    catalog: Catalog, member: Staff, day: date, count: int, rng: random.Random
) -> list[tuple[str, datetime]]:
    """Up to ``count`` (service, start) of ``member`` on ``day``, none overlapping, all
    inside working time, on the 15-minute grid (the salon's slot step)."""
    free = _free(catalog, member, day)
    if not free or count <= 0:
        return []
    lengths = {key: member.duration_of(catalog.services[key]) for key in member.services}
    shortest = min(lengths, key=lambda key: lengths[key])
    chosen = [rng.choice(sorted(lengths)) for _ in range(count)]
    room = sum((span.end - span.start for span in free), timedelta())
    # A service that does not fit before a break wastes less than the longest service.
    spare = max(lengths.values()) - STEP
    while sum((lengths[key] for key in chosen), timedelta()) > room - spare:
        longest = max(range(len(chosen)), key=lambda i: lengths[chosen[i]])
        if chosen[longest] == shortest:
            chosen.pop()
        else:
            chosen[longest] = shortest
    slack = room - spare - sum((lengths[key] for key in chosen), timedelta())
    planned: list[tuple[str, datetime]] = []
    spans = list(free)
    at = spans[0].start
    for key in chosen:
        gap = min(STEP * rng.choice((0, 0, 0, 1, 2)), slack)
        slack -= gap
        at += gap
        while at + lengths[key] > spans[0].end:
            spans.pop(0)
            if not spans:
                return planned
            at = max(at, spans[0].start)
        planned.append((key, at))
        at += lengths[key]
    return planned


async def fill_week(app: Salonbot, monday: date, daily: tuple[int, ...] = DAILY) -> Week:
    """The week's bookings, made through ``Bookings.book``, and the owner's account."""
    rng = random.Random(SEED)
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    people = await _customers(app, max(20, sum(daily) * len(catalog.staff) * 3 // 5), rng)
    per_day: dict[date, int] = {}
    for offset, count in enumerate(daily):
        day = monday + timedelta(days=offset)
        per_day[day] = 0
        for member in catalog.staff.values():
            for service, start in plan_day(catalog, member, day, count, rng):
                customer, actor = rng.choice(people)
                await app.bookings.book(
                    service, start, actor, staff_key=member.key, customer_id=customer
                )
                per_day[day] += 1
    await app.accounts.add(OWNER, PASSWORD, Role.OWNER)
    return Week(monday, per_day)
