"""Properties of the offer against the real booking path, around DST transitions.

For salons in zones with unusual clocks, whatever ``find_slots`` offers can be booked
through the locked, re-checking use case on Postgres, and a booked slot leaves the offer
together with every slot of that staff member that would overlap it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.tables import metadata
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock

# (zone, a local date whose night has a DST transition; Kathmandu has none)
TRANSITIONS = [
    ("Europe/Berlin", date(2027, 3, 28)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2027, 3, 14)),
    ("America/New_York", date(2026, 11, 1)),
    ("Australia/Lord_Howe", date(2027, 4, 4)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Asia/Kathmandu", date(2026, 12, 8)),
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _catalog(zone: str, step: int, duration: int, after: int, overnight_from: str) -> str:
    hours = ", ".join(
        f'{day}: [{{from: "{overnight_from}", to: "06:00"}}, '
        f'{{from: "09:00", to: "18:00", breaks: ["13:00-13:30"]}}]'
        for day in WEEKDAYS
    )
    return f"""
salon: {{name: Props, timezone: {zone}, languages: [en], currency: EUR}}
policies: {{min_notice: 30m, booking_horizon: 30d, slot_step: {step}m}}
services:
  - {{id: svc, name: {{en: Svc}}, duration: {duration}m, price: 10, buffer_after: {after}m}}
staff:
  - {{id: one, name: One, services: [svc], hours: {{{hours}}}}}
  - {{id: two, name: Two, services: [svc], hours: {{{hours}}}}}
"""


async def _empty(engine: AsyncEngine) -> None:
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    transition=st.sampled_from(TRANSITIONS),
    step=st.sampled_from([10, 15, 20, 30, 45]),
    duration=st.integers(min_value=15, max_value=150),
    after=st.sampled_from([0, 5, 10, 15]),
    overnight_from=st.sampled_from(["22:00", "23:30", "00:00"]),
    picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12),
    staff=st.sampled_from([None, "one", "two"]),
)
async def test_every_offered_slot_can_be_booked_and_then_leaves_the_offer(
    engine: AsyncEngine,
    transition: tuple[str, date],
    step: int,
    duration: int,
    after: int,
    overnight_from: str,
    picks: list[int],
    staff: str | None,
) -> None:
    zone, day = transition
    await _empty(engine)
    clock = FakeClock(datetime.combine(day - timedelta(days=2), datetime.min.time(), UTC))
    app = Salonbot(engine, clock)
    document, _ = load_catalog_text(_catalog(zone, step, duration, after, overnight_from))
    await load_catalog(app.uow, clock, document)
    query = SlotQuery("svc", day - timedelta(days=1), day + timedelta(days=1), staff)

    for pick in picks:
        offered = await app.find_slots(query)
        if not offered:
            break
        chosen = offered[pick % len(offered)]

        booking = await app.bookings.book(
            "svc", chosen.start, Actor.staff("props"), staff_key=chosen.staff_key
        )

        assert (booking.start, booking.end, booking.staff_key) == (
            chosen.start,
            chosen.end,
            chosen.staff_key,
        )
        after_booking = await app.find_slots(query)
        assert chosen not in after_booking
        for slot in after_booking:
            if slot.staff_key == chosen.staff_key:
                assert not slot.blocked.overlaps(chosen.blocked), (slot, chosen)
        assert set(after_booking) <= set(offered)
