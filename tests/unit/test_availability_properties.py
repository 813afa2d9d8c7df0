"""Free slots, by property: random salons around real DST transitions, checked against the rules.

Each scenario draws a zone, dates around one of its 2026-2027 offset changes (any dates for
zones without one), weekly hours with overnight shifts, ``24:00`` ends and breaks, dated
exceptions, a service with buffers, one or two staff with their own durations, a slot step,
notice and horizon, busy time and a "now". The checks recompute working time, breaks and
the grid from the catalog by the documented rules, the slow obvious way; of the code under
test they share only the resolution of local times (``local_to_utc``, ``boundary_to_utc``),
which ``test_timeline`` pins down by example.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain.availability import ScheduleCache, Slot, SlotQuery, find_slot, free_slots
from core.domain.catalog import (
    Catalog,
    DayException,
    Policies,
    Salon,
    Service,
    Staff,
    WorkPeriod,
)
from core.domain.timeline import Interval, boundary_to_utc, local_to_utc

DST_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
ZONE_NAMES = (*DST_ZONES, *DST_ZONES, "Asia/Kathmandu", "UTC")  # DST zones twice as often
UNIT = 5  # minutes: working hours and breaks are drawn on a five-minute clock
DAY_UNITS = 24 * 60 // UNIT

# Each property gets its own examples; the two that compare the whole offer with the rules
# get more, as they are the ones a subtle bug must get past. About 30 s in all.
PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THOROUGH = settings(PROPERTY, max_examples=120)


@cache
def transition_days(zone_name: str) -> tuple[date, ...]:
    """Local dates on which the zone's UTC offset changes in 2026 and 2027."""
    zone = ZoneInfo(zone_name)
    days: list[date] = []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        moment += timedelta(hours=1)
        local = moment.astimezone(zone)
        if local.utcoffset() != offset:
            offset = local.utcoffset()
            days.append(local.date())
    return tuple(days)


def test_the_scenarios_cover_every_transition_of_the_dst_zones() -> None:
    assert len(transition_days("Europe/Berlin")) == 4
    assert len(transition_days("America/New_York")) == 4
    assert len(transition_days("Australia/Lord_Howe")) == 4
    assert transition_days("Asia/Kathmandu") == ()
    assert date(2026, 3, 29) in transition_days("Europe/Berlin")
    assert date(2026, 10, 4) in transition_days("Australia/Lord_Howe")


# --- scenarios ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    catalog: Catalog
    query: SlotQuery
    now: datetime
    busy: Mapping[str, tuple[Interval, ...]]

    @property
    def zone(self) -> ZoneInfo:
        return self.catalog.salon.zone

    def offer(self, busy: Mapping[str, Iterable[Interval]] | None = None) -> list[Slot]:
        return free_slots(self.catalog, self.query, self.now, self.busy if busy is None else busy)


def clock(units: int) -> time:
    """A time of day from five-minute units; 288 (24:00) is midnight."""
    units %= DAY_UNITS
    return time(units * UNIT // 60, units * UNIT % 60)


def edge_or_any(draw: st.DrawFn, edge: int, low: int, high: int) -> int:
    """Anywhere in ``[low, high]``, but ``edge`` a third of the time: edges find bugs."""
    return edge if draw(st.integers(0, 2)) == 0 else draw(st.integers(low, high))


@st.composite
def work_period(draw: st.DrawFn, start: int, latest_end: int) -> tuple[WorkPeriod, int]:
    """A period from ``start`` to at most ``latest_end`` (units after the day's midnight,
    so past 288 it runs into tomorrow), with at most one break; and its end in units."""
    end = edge_or_any(draw, latest_end, start + 1, latest_end)
    breaks: tuple[tuple[time, time], ...] = ()
    if end - start >= 3 and draw(st.booleans()):
        # Up to two hours, perhaps at either edge of the period, never all of it.
        break_start = edge_or_any(draw, start, start, end - 2)
        latest = min(end if break_start > start else end - 1, break_start + 24)
        break_end = edge_or_any(draw, latest, break_start + 1, latest)
        breaks = ((clock(break_start), clock(break_end)),)
    return WorkPeriod(clock(start), clock(end), breaks), end


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[WorkPeriod, ...]:
    """Up to two periods of one day that do not overlap, though they may touch; the last may
    end at 24:00, run past midnight, or last 24 hours."""
    count = draw(st.sampled_from([0, 1, 1, 1, 2, 2]))
    periods: list[WorkPeriod] = []
    earliest = 0
    for index in range(count):
        if earliest >= DAY_UNITS:
            break
        # Often start where DST transitions and midnight are: 00:00, 01:00, 02:00, 20:00, 22:00.
        special = [u for u in (0, 12, 24, 240, 264) if u >= earliest]
        if special and draw(st.booleans()):  # type: ignore[arg-type]
            start = draw(st.sampled_from(special))
        else:  # perhaps touching the period before
            start = edge_or_any(draw, earliest, earliest, DAY_UNITS - 1)
        overnight = index == count - 1 and draw(st.booleans())
        period, end = draw(work_period(start, start + DAY_UNITS if overnight else DAY_UNITS))
        periods.append(period)
        earliest = end
    return tuple(periods)


@st.composite
def member(
    draw: st.DrawFn, key: str, days: list[date], night: date | None, *, at_the_change: bool
) -> Staff:
    """Weekly hours, up to two dated exceptions, and perhaps (surely ``at_the_change``) a
    shift through ``night``'s small hours, when the clocks change."""
    # Only the weekdays around the query matter; the others stay empty.
    weekly = {weekday: draw(day_hours()) for weekday in sorted({d.isoweekday() for d in days})}
    exceptions: dict[date, DayException] = {}
    for day in draw(st.lists(st.sampled_from(days), max_size=2, unique=True)):
        exceptions[day] = DayException(day, draw(day_hours()))
    if night is not None and (at_the_change or draw(st.booleans())):
        start = draw(st.sampled_from([0, 6, 12, 18]))
        through_the_night, _ = draw(work_period(start, start + draw(st.integers(36, 72))))
        exceptions[night] = DayException(night, (through_the_night,))
    own = draw(st.one_of(st.none(), st.integers(1, 36).map(lambda n: timedelta(minutes=n * UNIT))))
    return Staff(key, key.title(), {"svc": own}, weekly, exceptions)


@st.composite
def scenarios(draw: st.DrawFn, *, at_the_change: bool = False) -> Scenario:
    """A random salon and query; ``at_the_change`` narrows it to the night the clocks change,
    with staff working through it and nothing in the policies standing in the way."""
    zone_name = draw(st.sampled_from(DST_ZONES if at_the_change else ZONE_NAMES))
    zone = ZoneInfo(zone_name)
    night: date | None = None
    if transition_days(zone_name):
        night = draw(st.sampled_from(transition_days(zone_name)))
        shifts = [0] if at_the_change else [-2, -1, 0, 0, 0, 1]
        first_day = night + timedelta(days=draw(st.sampled_from(shifts)))
    else:
        first_day = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    last_day = first_day + timedelta(days=draw(st.integers(0, 2)))
    around = [first_day + timedelta(days=n) for n in range(-1, (last_day - first_day).days + 2)]

    service = Service(
        key="svc",
        names={"en": "Service"},
        duration=timedelta(minutes=draw(st.integers(1, 24)) * UNIT),
        price=Decimal(10),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30]))),
    )
    keys = draw(st.sampled_from([["ana"], ["ana", "bo"]]))
    staff = {key: draw(member(key, around, night, at_the_change=at_the_change)) for key in keys}
    # Notice and horizon mostly leave room for slots, sometimes cut into the range.
    long_horizon = at_the_change or draw(st.booleans()) or draw(st.booleans())
    horizon = (
        timedelta(days=60)
        if long_horizon
        else timedelta(minutes=draw(st.integers(60, 6 * 24 * 60)))
    )
    policies = Policies(
        min_notice=timedelta(
            minutes=0 if at_the_change else draw(st.one_of(st.just(0), st.integers(0, 12 * 60)))
        ),
        booking_horizon=horizon,
        slot_step=timedelta(minutes=draw(st.integers(5, 60))),
        hold_ttl=timedelta(minutes=10),
        customer_cancel_cutoff=timedelta(hours=24),
        customer_reschedule_cutoff=timedelta(hours=12),
    )
    catalog = Catalog(Salon("Salon", zone, ("en",), "EUR", policies), {"svc": service}, staff)

    midnight = boundary_to_utc(datetime.combine(first_day, time(0)), zone)
    # On the five-minute clock, "now" can land exactly on a notice or horizon edge.
    now = midnight + timedelta(
        seconds=draw(
            st.integers(-2 * 86400, 0)
            if at_the_change
            else st.one_of(
                st.integers(-288, 144).map(lambda u: u * 300), st.integers(-2 * 86400, 43200)
            )
        )
    )
    busy: dict[str, tuple[Interval, ...]] = {}
    for key in keys:
        spans = []
        for _ in range(draw(st.integers(0, 4))):
            start = midnight + timedelta(minutes=draw(st.integers(-24 * 60, 4 * 24 * 60)))
            length = timedelta(minutes=draw(st.integers(0, 6 * 60)))
            # Busy time arrives in any zone; the domain must read it as absolute time.
            shown_in = draw(st.sampled_from([UTC, zone]))
            spans.append(
                Interval(start.astimezone(shown_in), (start + length).astimezone(shown_in))
            )
        busy[key] = tuple(spans)
    staff_key = draw(st.sampled_from([None, *keys]))
    return Scenario(catalog, SlotQuery("svc", first_day, last_day, staff_key), now, busy)


# --- the rules, recomputed ---------------------------------------------------------------


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def period_walls(day: date, period: WorkPeriod) -> tuple[datetime, datetime]:
    """Wall-clock start and end; an end at or before the start is on the next day."""
    start = datetime.combine(day, period.start)
    end = datetime.combine(day, period.end)
    if end <= start:
        end += timedelta(days=1)
    return start, end


def next_wall(after: datetime, moment: time, *, strictly: bool) -> datetime:
    """The first wall-clock time showing ``moment`` at (or strictly after) ``after``."""
    candidate = datetime.combine(after.date(), moment)
    if candidate < after or (strictly and candidate == after):
        candidate += timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class Rules:
    """One staff member's working time and breaks as absolute intervals."""

    working: list[Interval]
    breaks: list[Interval]
    grid: list[datetime]  # naive walls on the query's dates, in order, from every period


def rules_for(scenario: Scenario, member: Staff) -> Rules:
    zone = scenario.zone
    step = scenario.catalog.salon.policies.slot_step
    first, last = scenario.query.first_day, scenario.query.last_day
    working: list[Interval] = []
    breaks: list[Interval] = []
    grid: list[datetime] = []
    for day in days_between(first - timedelta(days=2), last + timedelta(days=1)):
        for period in member.periods_on(day):
            start, end = period_walls(day, period)
            working.append(Interval(boundary_to_utc(start, zone), boundary_to_utc(end, zone)))
            for break_from, break_to in period.breaks:
                wall_from = next_wall(start, break_from, strictly=False)
                wall_to = next_wall(wall_from, break_to, strictly=True)
                breaks.append(
                    Interval(boundary_to_utc(wall_from, zone), boundary_to_utc(wall_to, zone))
                )
            wall = start
            while wall < end:
                if first <= wall.date() <= last:
                    grid.append(wall)
                wall += step
    return Rules(working, breaks, grid)


def covered(span: Interval, intervals: list[Interval]) -> bool:
    """Whether the union of ``intervals`` (touching ones joined) contains ``span``."""
    reached = span.start
    moved = True
    while reached < span.end and moved:
        moved = False
        for interval in intervals:
            if interval.start <= reached < interval.end:
                reached = interval.end
                moved = True
    return reached >= span.end


def members_of(scenario: Scenario) -> list[Staff]:
    staff = scenario.catalog.staff
    key = scenario.query.staff_key
    return [staff[key]] if key is not None else list(staff.values())


def expected_offer(scenario: Scenario) -> list[tuple[datetime, str]]:
    """Every (start, staff) the module's rules allow, computed the slow, obvious way."""
    policies = scenario.catalog.salon.policies
    service = scenario.catalog.service("svc")
    expected: set[tuple[datetime, str]] = set()
    for member in members_of(scenario):
        rules = rules_for(scenario, member)
        duration = member.duration_of(service)
        taken = [*scenario.busy.get(member.key, ()), *rules.breaks]
        for wall in rules.grid:
            start = local_to_utc(wall, scenario.zone)
            if start is None:
                continue
            if (
                not scenario.now + policies.min_notice
                <= start
                <= scenario.now + policies.booking_horizon
            ):
                continue
            if not covered(Interval(start, start + duration), rules.working):
                continue
            blocked = Interval(
                start - service.buffer_before, start + duration + service.buffer_after
            )
            if any(blocked.overlaps(t) for t in taken):
                continue
            expected.add((start, member.key))
    return sorted(expected)


def spread(slots: list[Slot], count: int = 8) -> list[Slot]:
    """A few slots across the offer: the first, the last and some between."""
    if len(slots) <= count:
        return slots
    stride = (len(slots) - 1) / (count - 1)
    return [slots[round(i * stride)] for i in range(count)]


# --- properties --------------------------------------------------------------------------


@PROPERTY
@given(scenarios())
def test_every_slot_starts_on_the_local_grid_at_a_local_time_that_exists(
    scenario: Scenario,
) -> None:
    zone = scenario.zone
    step = scenario.catalog.salon.policies.slot_step
    for slot in scenario.offer():
        local = slot.start.astimezone(zone)
        wall = local.replace(tzinfo=None, fold=0)
        # It exists and is the first occurrence of its wall time: it round-trips.
        assert local.fold == 0
        assert local_to_utc(wall, zone) == slot.start
        assert scenario.query.first_day <= wall.date() <= scenario.query.last_day
        member = scenario.catalog.member(slot.staff_key)
        on_a_grid = False
        for day in (wall.date() - timedelta(days=1), wall.date()):
            for period in member.periods_on(day):
                start, end = period_walls(day, period)
                if start <= wall < end and (wall - start) % step == timedelta(0):
                    on_a_grid = True
        assert on_a_grid, f"{local} is on no period's grid"


@PROPERTY
@given(scenarios())
def test_no_blocked_span_overlaps_busy_time_or_a_break(scenario: Scenario) -> None:
    breaks = {m.key: rules_for(scenario, m).breaks for m in members_of(scenario)}
    for slot in scenario.offer():
        for taken in (*scenario.busy.get(slot.staff_key, ()), *breaks[slot.staff_key]):
            assert not slot.blocked.overlaps(taken), (slot, taken)


@PROPERTY
@given(scenarios())
def test_the_service_lies_inside_working_time_and_lasts_the_staff_members_duration(
    scenario: Scenario,
) -> None:
    service = scenario.catalog.service("svc")
    working = {m.key: rules_for(scenario, m).working for m in members_of(scenario)}
    for slot in scenario.offer():
        member = scenario.catalog.member(slot.staff_key)
        assert slot.end - slot.start == member.duration_of(service)
        assert slot.blocked == Interval(
            slot.start - service.buffer_before, slot.end + service.buffer_after
        )
        assert covered(Interval(slot.start, slot.end), working[member.key])


@PROPERTY
@given(scenarios())
def test_every_slot_respects_the_minimum_notice_and_the_booking_horizon(
    scenario: Scenario,
) -> None:
    policies = scenario.catalog.salon.policies
    for slot in scenario.offer():
        assert scenario.now + policies.min_notice <= slot.start
        assert slot.start <= scenario.now + policies.booking_horizon


@THOROUGH
@given(scenarios())
def test_the_offer_is_exactly_what_the_rules_allow(scenario: Scenario) -> None:
    offered = scenario.offer()
    assert [(slot.start, slot.staff_key) for slot in offered] == expected_offer(scenario)


@THOROUGH
@given(scenarios(at_the_change=True))
def test_on_the_night_the_clocks_change_the_offer_is_exactly_what_the_rules_allow(
    scenario: Scenario,
) -> None:
    offered = scenario.offer()
    assert [(slot.start, slot.staff_key) for slot in offered] == expected_offer(scenario)


@PROPERTY
@given(scenarios())
def test_every_offered_slot_can_be_booked_through_find_slot(scenario: Scenario) -> None:
    for slot in spread(scenario.offer()):
        busy = scenario.busy.get(slot.staff_key, ())
        found = find_slot(scenario.catalog, "svc", slot.staff_key, slot.start, scenario.now, busy)
        assert found == slot


@PROPERTY
@given(scenarios(), st.data())
def test_booking_a_slot_removes_it_and_every_slot_it_overlaps_and_nothing_else(
    scenario: Scenario, data: st.DataObject
) -> None:
    offered = scenario.offer()
    if not offered:
        return
    booked = data.draw(st.sampled_from(offered), label="booked")
    busy = {key: list(spans) for key, spans in scenario.busy.items()}
    busy.setdefault(booked.staff_key, []).append(booked.blocked)
    after = scenario.offer(busy)
    assert booked not in after
    assert after == [
        slot
        for slot in offered
        if not (slot.staff_key == booked.staff_key and slot.blocked.overlaps(booked.blocked))
    ]
    again = find_slot(
        scenario.catalog,
        "svc",
        booked.staff_key,
        booked.start,
        scenario.now,
        busy[booked.staff_key],
    )
    assert again is None


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_same_inputs_give_the_same_offer_whatever_the_order_of_busy_time(
    scenario: Scenario, shuffler: random.Random
) -> None:
    first = scenario.offer()
    shuffled = {}
    for key, spans in scenario.busy.items():
        spans_list = list(spans)
        shuffler.shuffle(spans_list)
        shuffled[key] = spans_list
    assert scenario.offer() == first
    assert scenario.offer(shuffled) == first
    assert first == sorted(first)


@PROPERTY
@given(scenarios())
def test_a_range_of_days_offers_exactly_the_offers_of_its_days(scenario: Scenario) -> None:
    query = scenario.query
    by_day = [
        slot
        for day in days_between(query.first_day, query.last_day)
        for slot in free_slots(
            scenario.catalog,
            SlotQuery(query.service_key, day, day, query.staff_key),
            scenario.now,
            scenario.busy,
        )
    ]
    assert scenario.offer() == by_day


@PROPERTY
@given(scenarios())
def test_any_staff_offers_the_union_of_each_staff_members_offer(scenario: Scenario) -> None:
    query = scenario.query
    anyone = free_slots(
        scenario.catalog,
        SlotQuery(query.service_key, query.first_day, query.last_day, None),
        scenario.now,
        scenario.busy,
    )
    each = [
        slot
        for key in scenario.catalog.staff
        for slot in free_slots(
            scenario.catalog,
            SlotQuery(query.service_key, query.first_day, query.last_day, key),
            scenario.now,
            scenario.busy,
        )
    ]
    assert anyone == sorted(each)


@PROPERTY
@given(scenarios(), st.integers(1, 4))
def test_a_schedule_cache_shared_across_queries_changes_no_offer(
    scenario: Scenario, limit: int
) -> None:
    # Small limits make the cache empty itself between the queries below, too.
    shared = ScheduleCache(limit=limit)
    query = scenario.query
    queries = [
        query,
        *(
            SlotQuery(query.service_key, day, day, query.staff_key)
            for day in days_between(query.first_day, query.last_day)
        ),
        SlotQuery(query.service_key, query.first_day, query.last_day, None),
        query,
    ]
    for each in queries:
        fresh = free_slots(scenario.catalog, each, scenario.now, scenario.busy)
        cached = free_slots(scenario.catalog, each, scenario.now, scenario.busy, shared)
        assert cached == fresh
    # A new catalog (the owner closed the salon) must not be answered from the old one's.
    closed = replace(
        scenario.catalog,
        staff={k: replace(m, weekly={}, exceptions={}) for k, m in scenario.catalog.staff.items()},
    )
    assert free_slots(closed, query, scenario.now, scenario.busy, shared) == []
