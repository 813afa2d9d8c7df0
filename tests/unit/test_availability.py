"""Free slots, by example: each test states the exact starts a salon should offer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.catalog.file import load_catalog_text
from core.domain.availability import (
    Slot,
    SlotQuery,
    find_slot,
    free_slots,
    nearest,
    offered_starts,
)
from core.domain.catalog import (
    Catalog,
    DayException,
    Policies,
    Salon,
    Service,
    Staff,
    WorkPeriod,
)
from core.domain.errors import StaffDoesNotPerform, UnknownService, UnknownStaff
from core.domain.timeline import Interval

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KATHMANDU = ZoneInfo("Asia/Kathmandu")

MONDAY = date(2026, 6, 1)
TUESDAY = date(2026, 6, 2)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "examples" / "salon.yaml"

# --- building catalogs -------------------------------------------------------------------


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def clock(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(0, 0) if hour == 24 else time(hour, minute)


def period(hours: str, *breaks: str) -> WorkPeriod:
    """``period("09:00-18:00", "13:00-13:30")``; ``24:00`` ends a day."""
    start, end = hours.split("-")
    spans = tuple((clock(b.split("-")[0]), clock(b.split("-")[1])) for b in breaks)
    return WorkPeriod(clock(start), clock(end), spans)


def policies(
    *,
    step: int = 30,
    min_notice: timedelta = timedelta(0),
    horizon: timedelta = timedelta(days=365),
) -> Policies:
    return Policies(
        min_notice=min_notice,
        booking_horizon=horizon,
        slot_step=minutes(step),
        hold_ttl=minutes(10),
        customer_cancel_cutoff=timedelta(hours=24),
        customer_reschedule_cutoff=timedelta(hours=12),
    )


def service(key: str = "cut", duration: int = 60, *, before: int = 0, after: int = 0) -> Service:
    return Service(
        key=key,
        names={"en": key},
        duration=minutes(duration),
        price=Decimal(30),
        buffer_before=minutes(before),
        buffer_after=minutes(after),
    )


def staff(
    key: str,
    hours: Mapping[date, Sequence[WorkPeriod]],
    *,
    services: Mapping[str, timedelta | None] | None = None,
    exceptions: Iterable[DayException] = (),
) -> Staff:
    """A staff member whose weekly hours are given by example dates (their weekdays)."""
    return Staff(
        key=key,
        name=key.title(),
        services={"cut": None} if services is None else services,
        weekly={day.isoweekday(): tuple(periods) for day, periods in hours.items()},
        exceptions={e.day: e for e in exceptions},
    )


def catalog(
    *members: Staff,
    zone: ZoneInfo = BERLIN,
    services: Iterable[Service] = (),
    rules: Policies | None = None,
) -> Catalog:
    offered = list(services) or [service()]
    return Catalog(
        salon=Salon("Test salon", zone, ("en",), "EUR", rules or policies()),
        services={s.key: s for s in offered},
        staff={m.key: m for m in members},
    )


def slots_on(
    salon: Catalog,
    first: date,
    last: date | None = None,
    *,
    staff_key: str | None = None,
    service_key: str = "cut",
    now: datetime = LONG_AGO,
    busy: Mapping[str, Iterable[Interval]] | None = None,
) -> list[Slot]:
    query = SlotQuery(service_key, first, last or first, staff_key)
    return free_slots(salon, query, now, busy or {})


def local(moment: datetime, zone: ZoneInfo) -> str:
    """``03:00+02:00``: the local wall time with its offset, so DST is visible."""
    return moment.astimezone(zone).isoformat(timespec="minutes")[11:]


def starts(slots: Iterable[Slot], zone: ZoneInfo = BERLIN) -> list[str]:
    return [local(slot.start, zone) for slot in slots]


def dated(slots: Iterable[Slot], zone: ZoneInfo = BERLIN) -> list[str]:
    return [f"{slot.start.astimezone(zone):%a %H:%M}" for slot in slots]


def at(day: date, hhmm: str, zone: ZoneInfo = BERLIN, *, fold: int = 0) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, fold=fold, tzinfo=zone)


def busy_between(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


# --- the DST gap -------------------------------------------------------------------------

SPRING_FORWARD = [
    pytest.param(BERLIN, date(2026, 3, 29), "+01:00", "+02:00", id="Europe/Berlin"),
    pytest.param(NEW_YORK, date(2026, 3, 8), "-05:00", "-04:00", id="America/New_York"),
]


@pytest.mark.parametrize(("zone", "day", "before", "after"), SPRING_FORWARD)
def test_a_slot_is_never_offered_inside_the_dst_gap(
    zone: ZoneInfo, day: date, before: str, after: str
) -> None:
    salon = catalog(staff("anna", {day: [period("01:00-05:00")]}), zone=zone)
    # 02:00 and 02:30 do not exist; 01:00 to 05:00 is three real hours, so 04:30 would end
    # after closing.
    assert starts(slots_on(salon, day), zone) == [
        f"01:00{before}",
        f"01:30{before}",
        f"03:00{after}",
        f"03:30{after}",
        f"04:00{after}",
    ]


def test_a_service_that_runs_across_the_gap_lasts_its_real_length() -> None:
    salon = catalog(staff("anna", {date(2026, 3, 29): [period("01:00-05:00")]}))
    slot = slots_on(salon, date(2026, 3, 29))[1]
    assert local(slot.start, BERLIN) == "01:30+01:00"
    assert local(slot.end, BERLIN) == "03:30+02:00"
    assert slot.end - slot.start == timedelta(hours=1)


def test_a_shift_starting_inside_the_gap_starts_when_the_clock_resumes() -> None:
    salon = catalog(staff("anna", {date(2026, 3, 29): [period("02:30-05:00")]}))
    assert starts(slots_on(salon, date(2026, 3, 29))) == [
        "03:00+02:00",
        "03:30+02:00",
        "04:00+02:00",
    ]


def test_a_grid_time_inside_the_gap_is_skipped_not_moved() -> None:
    # The 45-minute grid from 01:00 meets 02:30, which does not exist; 03:00 is off the grid.
    salon = catalog(
        staff("anna", {date(2026, 3, 29): [period("01:00-05:00")]}), rules=policies(step=45)
    )
    assert starts(slots_on(salon, date(2026, 3, 29))) == [
        "01:00+01:00",
        "01:45+01:00",
        "03:15+02:00",
        "04:00+02:00",
    ]


def test_a_shift_ending_inside_the_gap_ends_when_the_clock_resumes() -> None:
    # 01:00-02:30 ends at 03:00 CEST: one real hour, just enough for a one-hour service.
    salon = catalog(staff("anna", {date(2026, 3, 29): [period("01:00-02:30")]}))
    slots = slots_on(salon, date(2026, 3, 29))
    assert starts(slots) == ["01:00+01:00"]
    assert local(slots[0].end, BERLIN) == "03:00+02:00"


def test_a_break_starting_inside_the_gap_starts_when_the_clock_resumes() -> None:
    salon = catalog(
        staff("anna", {date(2026, 3, 29): [period("00:00-05:00", "02:30-03:30")]}),
        services=[service(duration=30)],
    )
    # 01:30 CET ends at 03:00 CEST, exactly as the break begins.
    assert starts(slots_on(salon, date(2026, 3, 29))) == [
        "00:00+01:00",
        "00:30+01:00",
        "01:00+01:00",
        "01:30+01:00",
        "03:30+02:00",
        "04:00+02:00",
        "04:30+02:00",
    ]


def test_lord_howes_half_hour_gap_skips_only_half_an_hour_of_starts() -> None:
    salon = catalog(
        staff("anna", {date(2026, 10, 4): [period("01:00-04:00")]}),
        zone=LORD_HOWE,
        services=[service(duration=30)],
        rules=policies(step=15),
    )
    assert starts(slots_on(salon, date(2026, 10, 4)), LORD_HOWE) == [
        "01:00+10:30",
        "01:15+10:30",
        "01:30+10:30",
        "01:45+10:30",
        "02:30+11:00",
        "02:45+11:00",
        "03:00+11:00",
        "03:15+11:00",
        "03:30+11:00",
    ]


def test_a_break_that_spans_the_gap_blocks_only_its_real_time() -> None:
    # The break 01:30-02:30 ends when the clock resumes at 03:00: half an hour.
    salon = catalog(staff("anna", {date(2026, 3, 29): [period("00:00-05:00", "01:30-02:30")]}))
    assert starts(slots_on(salon, date(2026, 3, 29))) == [
        "00:00+01:00",
        "00:30+01:00",
        "03:00+02:00",
        "03:30+02:00",
        "04:00+02:00",
    ]


# --- the DST fold ------------------------------------------------------------------------


def test_in_the_fold_each_wall_time_is_offered_once_at_its_first_occurrence() -> None:
    day = date(2026, 10, 25)
    salon = catalog(staff("anna", {day: [period("01:00-04:00")]}))
    # 01:00 CEST to 04:00 CET is four real hours; the second 02:00 and 02:30 are not offered.
    assert starts(slots_on(salon, day)) == [
        "01:00+02:00",
        "01:30+02:00",
        "02:00+02:00",
        "02:30+02:00",
        "03:00+01:00",
    ]


def test_in_new_yorks_fold_the_repeated_hour_is_offered_once() -> None:
    day = date(2026, 11, 1)
    salon = catalog(staff("anna", {day: [period("00:00-03:00")]}), zone=NEW_YORK)
    assert starts(slots_on(salon, day), NEW_YORK) == [
        "00:00-04:00",
        "00:30-04:00",
        "01:00-04:00",
        "01:30-04:00",
        "02:00-05:00",
    ]


def test_in_lord_howes_half_hour_fold_the_repeated_half_hour_is_offered_once() -> None:
    day = date(2026, 4, 5)
    salon = catalog(
        staff("anna", {day: [period("01:00-03:00")]}),
        zone=LORD_HOWE,
        services=[service(duration=30)],
        rules=policies(step=15),
    )
    assert starts(slots_on(salon, day), LORD_HOWE) == [
        "01:00+11:00",
        "01:15+11:00",
        "01:30+11:00",
        "01:45+11:00",
        "02:00+10:30",
        "02:15+10:30",
        "02:30+10:30",
    ]


def test_the_service_length_in_the_fold_is_real_elapsed_time() -> None:
    day = date(2026, 10, 25)
    salon = catalog(staff("anna", {day: [period("00:00-06:00")]}), services=[service(duration=120)])
    slot = next(s for s in slots_on(salon, day) if local(s.start, BERLIN) == "01:30+02:00")
    # Two real hours, though the wall clock moves on by only one.
    assert slot.end - slot.start == timedelta(hours=2)
    assert local(slot.end, BERLIN) == "02:30+01:00"


def test_time_taken_in_the_second_pass_of_the_fold_blocks_the_slots_that_reach_it() -> None:
    day = date(2026, 10, 25)
    salon = catalog(staff("anna", {day: [period("01:00-04:00")]}))
    second_pass = busy_between(at(day, "02:00", fold=1), at(day, "02:30", fold=1))
    assert starts(slots_on(salon, day, busy={"anna": [second_pass]})) == [
        "01:00+02:00",
        "01:30+02:00",
        "02:00+02:00",
        "03:00+01:00",
    ]


def test_the_fold_gives_the_same_slots_every_time_and_in_every_range() -> None:
    day = date(2026, 10, 25)
    salon = catalog(staff("anna", {day: [period("00:00-24:00")], day + timedelta(1): []}))
    once = slots_on(salon, day)
    again = slots_on(salon, day)
    wide = slots_on(salon, day - timedelta(days=3), day + timedelta(days=3))
    assert once == again == [s for s in wide if s.start.astimezone(BERLIN).date() == day]
    assert len({s.start for s in once}) == len(once)
    # 00:00 to 24:00 is 25 real hours, yet its grid has 48 wall times, each offered once;
    # all fit but 23:30, which would end after the day's shift.
    assert len(once) == 47


# --- midnight and the end of the day -----------------------------------------------------


def test_a_service_may_run_past_midnight_into_a_shift_from_00_00() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("18:00-24:00")], TUESDAY: [period("00:00-06:00")]}),
        services=[service(duration=120)],
        rules=policies(step=60),
    )
    assert dated(slots_on(salon, MONDAY)) == [
        "Mon 18:00",
        "Mon 19:00",
        "Mon 20:00",
        "Mon 21:00",
        "Mon 22:00",
        "Mon 23:00",
    ]
    assert dated(slots_on(salon, TUESDAY)) == [
        "Tue 00:00",
        "Tue 01:00",
        "Tue 02:00",
        "Tue 03:00",
        "Tue 04:00",
    ]


def test_a_shift_to_24_00_alone_offers_its_last_slot_to_end_at_midnight() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("18:00-24:00")]}),
        services=[service(duration=120)],
        rules=policies(step=60),
    )
    slots = slots_on(salon, MONDAY)
    assert dated(slots) == ["Mon 18:00", "Mon 19:00", "Mon 20:00", "Mon 21:00", "Mon 22:00"]
    assert slots[-1].end == at(TUESDAY, "00:00")


def test_an_overnight_shift_offers_its_after_midnight_slots_on_the_next_date() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("20:00-02:00")]}))
    assert dated(slots_on(salon, MONDAY)) == [
        "Mon 20:00",
        "Mon 20:30",
        "Mon 21:00",
        "Mon 21:30",
        "Mon 22:00",
        "Mon 22:30",
        "Mon 23:00",
        "Mon 23:30",
    ]
    assert dated(slots_on(salon, TUESDAY)) == ["Tue 00:00", "Tue 00:30", "Tue 01:00"]
    assert slots_on(salon, MONDAY, TUESDAY) == slots_on(salon, MONDAY) + slots_on(salon, TUESDAY)


def test_the_last_slot_of_an_overnight_shift_ends_at_its_closing() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("20:00-02:00")]}))
    last = slots_on(salon, TUESDAY)[-1]
    assert last.start == at(TUESDAY, "01:00")
    assert last.end == at(TUESDAY, "02:00")


def test_a_break_in_an_overnight_shift_may_be_written_in_tomorrows_clock() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("20:00-04:00", "00:30-01:00")]}))
    assert dated(slots_on(salon, MONDAY))[-1] == "Mon 23:30"
    assert dated(slots_on(salon, TUESDAY)) == [
        "Tue 01:00",
        "Tue 01:30",
        "Tue 02:00",
        "Tue 02:30",
        "Tue 03:00",
    ]


def test_a_break_may_end_as_a_24_hour_shift_ends() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("00:00-24:00", "23:00-24:00")]}))
    slots = slots_on(salon, MONDAY)
    assert starts(slots)[-1] == "22:00+02:00"
    assert len(slots) == 45


def test_a_24_hour_shift_from_mid_morning_runs_to_the_same_time_tomorrow() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("10:00-10:00", "09:00-10:00")]}),
        rules=policies(step=60),
    )
    # The break is written in tomorrow's clock: it is the shift's last hour.
    assert dated(slots_on(salon, TUESDAY)) == [
        "Tue 00:00",
        "Tue 01:00",
        "Tue 02:00",
        "Tue 03:00",
        "Tue 04:00",
        "Tue 05:00",
        "Tue 06:00",
        "Tue 07:00",
        "Tue 08:00",
    ]


def test_a_time_reached_by_two_overlapping_shifts_is_offered_once() -> None:
    # Monday's night shift runs into Tuesday's early one; 02:00-04:00 is in both.
    salon = catalog(
        staff("anna", {MONDAY: [period("22:00-04:00")], TUESDAY: [period("02:00-06:00")]}),
        rules=policies(step=60),
    )
    assert dated(slots_on(salon, TUESDAY)) == [
        "Tue 00:00",
        "Tue 01:00",
        "Tue 02:00",
        "Tue 03:00",
        "Tue 04:00",
        "Tue 05:00",
    ]


def test_the_last_slot_of_a_day_ends_exactly_at_closing() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-18:00")]}),
        services=[service(duration=45)],
        rules=policies(step=15),
    )
    slots = slots_on(salon, MONDAY)
    assert starts(slots)[0] == "09:00+02:00"
    assert starts(slots)[-1] == "17:15+02:00"
    assert slots[-1].end == at(MONDAY, "18:00")
    assert len(slots) == 34


def test_a_shift_shorter_than_the_service_offers_nothing() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-09:45")]}))
    assert slots_on(salon, MONDAY) == []


# --- policies ----------------------------------------------------------------------------


def test_no_slot_starts_sooner_than_the_minimum_notice() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-13:00")]}),
        rules=policies(min_notice=timedelta(hours=2)),
    )
    # Exactly at the notice is still allowed.
    assert starts(slots_on(salon, MONDAY, now=at(MONDAY, "08:00"))) == [
        "10:00+02:00",
        "10:30+02:00",
        "11:00+02:00",
        "11:30+02:00",
        "12:00+02:00",
    ]
    assert starts(slots_on(salon, MONDAY, now=at(MONDAY, "08:01")))[0] == "10:30+02:00"


def test_no_slot_starts_later_than_the_booking_horizon() -> None:
    salon = catalog(
        staff("anna", {TUESDAY: [period("09:00-13:00")]}),
        rules=policies(horizon=timedelta(days=1, hours=1)),
    )
    # Exactly at the horizon is still allowed.
    assert starts(slots_on(salon, TUESDAY, now=at(MONDAY, "09:00"))) == [
        "09:00+02:00",
        "09:30+02:00",
        "10:00+02:00",
    ]


def test_a_slot_that_already_began_is_not_offered() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-13:00")]}))
    assert starts(slots_on(salon, MONDAY, now=at(MONDAY, "11:15")))[0] == "11:30+02:00"


def test_starts_lie_on_the_slot_step_grid_from_each_periods_start() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:10-11:00"), period("14:05-15:00")]}),
        services=[service(duration=30)],
        rules=policies(step=20),
    )
    assert starts(slots_on(salon, MONDAY)) == [
        "09:10+02:00",
        "09:30+02:00",
        "09:50+02:00",
        "10:10+02:00",
        "10:30+02:00",
        "14:05+02:00",
        "14:25+02:00",
    ]


# --- buffers, breaks and busy time -------------------------------------------------------


def test_buffers_keep_the_service_clear_of_other_bookings() -> None:
    hours = {MONDAY: [period("09:00-13:00")]}
    booked = busy_between(at(MONDAY, "11:00"), at(MONDAY, "11:30"))
    plain = catalog(staff("anna", hours))
    buffered = catalog(staff("anna", hours), services=[service(before=15, after=15)])
    assert starts(slots_on(plain, MONDAY, busy={"anna": [booked]})) == [
        "09:00+02:00",
        "09:30+02:00",
        "10:00+02:00",
        "11:30+02:00",
        "12:00+02:00",
    ]
    assert starts(slots_on(buffered, MONDAY, busy={"anna": [booked]})) == [
        "09:00+02:00",
        "09:30+02:00",
        "12:00+02:00",
    ]


def test_a_slots_blocked_span_is_the_service_widened_by_its_buffers() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-13:00")]}),
        services=[service(before=10, after=15)],
    )
    first = slots_on(salon, MONDAY)[0]
    assert first.start == at(MONDAY, "09:00")
    assert first.end == at(MONDAY, "10:00")
    assert first.blocked == busy_between(at(MONDAY, "08:50"), at(MONDAY, "10:15"))


def test_buffers_may_reach_outside_working_time() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-11:00")]}),
        services=[service(before=15, after=15)],
    )
    assert starts(slots_on(salon, MONDAY)) == ["09:00+02:00", "09:30+02:00", "10:00+02:00"]


def test_no_slot_touches_a_break_even_with_its_buffers() -> None:
    hours = {MONDAY: [period("09:00-14:00", "11:00-11:30")]}
    assert starts(slots_on(catalog(staff("anna", hours)), MONDAY)) == [
        "09:00+02:00",
        "09:30+02:00",
        "10:00+02:00",
        "11:30+02:00",
        "12:00+02:00",
        "12:30+02:00",
        "13:00+02:00",
    ]
    buffered = catalog(staff("anna", hours), services=[service(after=15)])
    assert starts(slots_on(buffered, MONDAY)) == [
        "09:00+02:00",
        "09:30+02:00",
        "11:30+02:00",
        "12:00+02:00",
        "12:30+02:00",
        "13:00+02:00",
    ]


BUSY_KINDS = [
    pytest.param(
        [busy_between(at(MONDAY, "10:50"), at(MONDAY, "12:00"))],
        ["09:00", "09:30", "12:00", "12:30", "13:00"],
        id="a booking's blocked span",
    ),
    pytest.param(
        [busy_between(at(MONDAY, "12:00"), at(MONDAY, "12:10"))],
        ["09:00", "09:30", "10:00", "10:30", "11:00", "12:30", "13:00"],
        id="an unexpired hold",
    ),
    pytest.param(
        [busy_between(at(MONDAY, "00:00"), at(TUESDAY, "00:00"))],
        [],
        id="a day of time off",
    ),
    pytest.param(
        # Google reports it in New York time: 04:00-05:00 EDT is 10:00-11:00 in Berlin.
        [busy_between(at(MONDAY, "04:00", NEW_YORK), at(MONDAY, "05:00", NEW_YORK))],
        ["09:00", "11:00", "11:30", "12:00", "12:30", "13:00"],
        id="external busy time in another zone",
    ),
    pytest.param(
        [
            busy_between(at(MONDAY, "09:00"), at(MONDAY, "09:30")),
            busy_between(at(MONDAY, "12:30"), at(MONDAY, "14:00")),
        ],
        ["09:30", "10:00", "10:30", "11:00", "11:30"],
        id="several at once",
    ),
    pytest.param(
        [busy_between(at(MONDAY, "08:00"), at(MONDAY, "09:00"))],
        ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00"],
        id="busy time ending as the shift starts",
    ),
]


@pytest.mark.parametrize(("busy", "expected"), BUSY_KINDS)
def test_busy_time_of_every_kind_is_respected(busy: list[Interval], expected: list[str]) -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-14:00")]}))
    offered = starts(slots_on(salon, MONDAY, busy={"anna": busy}))
    assert offered == [f"{hhmm}+02:00" for hhmm in expected]


def test_busy_time_of_one_staff_member_does_not_touch_another() -> None:
    hours = {MONDAY: [period("09:00-11:00")]}
    salon = catalog(staff("anna", hours), staff("olga", hours))
    busy = {"olga": [busy_between(at(MONDAY, "09:00"), at(MONDAY, "11:00"))]}
    assert starts(slots_on(salon, MONDAY, staff_key="anna", busy=busy)) == [
        "09:00+02:00",
        "09:30+02:00",
        "10:00+02:00",
    ]
    assert slots_on(salon, MONDAY, staff_key="olga", busy=busy) == []


# --- dated exceptions --------------------------------------------------------------------


def test_a_day_off_offers_nothing() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-18:00")]}, exceptions=[DayException(MONDAY)])
    )
    assert slots_on(salon, MONDAY) == []
    # The same weekday a week later works as usual.
    assert len(slots_on(salon, MONDAY + timedelta(days=7))) == 17


def test_custom_hours_replace_the_weekly_hours_on_their_date() -> None:
    salon = catalog(
        staff(
            "anna",
            {MONDAY: [period("09:00-18:00")]},
            exceptions=[DayException(MONDAY, (period("14:00-16:00"),), "short day")],
        )
    )
    assert starts(slots_on(salon, MONDAY)) == ["14:00+02:00", "14:30+02:00", "15:00+02:00"]


def test_custom_hours_open_a_day_without_weekly_hours() -> None:
    salon = catalog(staff("anna", {}, exceptions=[DayException(TUESDAY, (period("10:00-11:30"),))]))
    assert slots_on(salon, MONDAY) == []
    assert starts(slots_on(salon, TUESDAY)) == ["10:00+02:00", "10:30+02:00"]


def test_a_day_off_after_a_night_shift_leaves_the_night_shift_whole() -> None:
    # A period belongs to the date it starts on; Tuesday's day off does not cut Monday's night.
    salon = catalog(
        staff("anna", {MONDAY: [period("22:00-02:00")]}, exceptions=[DayException(TUESDAY)])
    )
    assert dated(slots_on(salon, TUESDAY)) == ["Tue 00:00", "Tue 00:30", "Tue 01:00"]


# --- staff -------------------------------------------------------------------------------


def test_a_staff_members_own_duration_replaces_the_services() -> None:
    hours = {MONDAY: [period("09:00-12:00")]}
    salon = catalog(
        staff("anna", hours),
        staff("olga", hours, services={"cut": minutes(75)}),
        rules=policies(step=15),
    )
    anna = slots_on(salon, MONDAY, staff_key="anna")
    olga = slots_on(salon, MONDAY, staff_key="olga")
    assert starts(anna)[-1] == "11:00+02:00"
    assert starts(olga)[-1] == "10:45+02:00"
    assert all(s.end - s.start == minutes(75) for s in olga)
    assert all(s.end - s.start == minutes(60) for s in anna)


def test_any_staff_offers_the_union_of_everyones_slots_by_start_then_staff() -> None:
    salon = catalog(
        staff("olga", {MONDAY: [period("10:00-12:00")]}),
        staff("anna", {MONDAY: [period("09:00-11:00")]}),
        staff("maria", {MONDAY: [period("09:00-18:00")]}, services={"nails": None}),
        services=[service(), service("nails")],
    )
    slots = slots_on(salon, MONDAY)
    assert [(local(s.start, BERLIN)[:5], s.staff_key) for s in slots] == [
        ("09:00", "anna"),
        ("09:30", "anna"),
        ("10:00", "anna"),
        ("10:00", "olga"),
        ("10:30", "olga"),
        ("11:00", "olga"),
    ]
    assert starts_of(offered_starts(slots)) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    union = sorted(
        slots_on(salon, MONDAY, staff_key="anna") + slots_on(salon, MONDAY, staff_key="olga")
    )
    assert slots == union


def starts_of(instants: Iterable[datetime]) -> list[str]:
    return [f"{moment.astimezone(BERLIN):%H:%M}" for moment in instants]


def test_any_staff_with_nobody_performing_the_service_offers_nothing() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-18:00")]}),
        services=[service(), service("nails")],
    )
    assert slots_on(salon, MONDAY, service_key="nails") == []


def test_an_unknown_staff_member_is_a_domain_error() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-18:00")]}))
    with pytest.raises(UnknownStaff) as raised:
        slots_on(salon, MONDAY, staff_key="zoe")
    assert raised.value.key == "zoe"


def test_a_staff_member_who_does_not_perform_the_service_is_a_domain_error() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-18:00")]}),
        services=[service(), service("nails")],
    )
    with pytest.raises(StaffDoesNotPerform) as raised:
        slots_on(salon, MONDAY, staff_key="anna", service_key="nails")
    assert (raised.value.staff_key, raised.value.service_key) == ("anna", "nails")


def test_an_unknown_service_is_a_domain_error() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-18:00")]}))
    with pytest.raises(UnknownService):
        slots_on(salon, MONDAY, service_key="perm")


def test_a_naive_now_is_refused() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-18:00")]}))
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_on(salon, MONDAY, now=datetime(2026, 1, 1))  # noqa: DTZ001


# --- other zones -------------------------------------------------------------------------


def test_kathmandus_quarter_hour_offset_places_slots_on_its_local_grid() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-11:00")]}), zone=KATHMANDU)
    assert [s.start for s in slots_on(salon, MONDAY)] == [
        datetime(2026, 6, 1, 3, 15, tzinfo=UTC),
        datetime(2026, 6, 1, 3, 45, tzinfo=UTC),
        datetime(2026, 6, 1, 4, 15, tzinfo=UTC),
    ]


def test_every_instant_of_a_slot_is_in_utc() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-11:00")]}), zone=KATHMANDU)
    for slot in slots_on(salon, MONDAY):
        assert slot.start.tzinfo is UTC
        assert slot.end.tzinfo is UTC
        assert slot.blocked.start.tzinfo is UTC


# --- find_slot ---------------------------------------------------------------------------


def test_find_slot_returns_exactly_the_offered_slot() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-12:00")]}), services=[service(after=10)])
    offered = slots_on(salon, MONDAY)
    for slot in offered:
        assert find_slot(salon, "cut", "anna", slot.start, LONG_AGO, ()) == slot


def test_find_slot_accepts_a_start_given_in_local_time() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-12:00")]}))
    found = find_slot(salon, "cut", "anna", at(MONDAY, "10:30"), LONG_AGO, ())
    assert found is not None
    assert found.start == datetime(2026, 6, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (at(MONDAY, "09:15"), "off the grid"),
        (at(MONDAY, "11:30"), "would end after closing"),
        (at(MONDAY, "08:30"), "before opening"),
        (at(MONDAY, "10:00"), "taken"),
        (at(TUESDAY, "10:00"), "no hours that day"),
    ],
)
def test_find_slot_refuses_a_start_that_is_not_offered(start: datetime, why: str) -> None:
    salon = catalog(staff("anna", {MONDAY: [period("09:00-12:00")]}))
    taken = [busy_between(at(MONDAY, "10:30"), at(MONDAY, "11:00"))]
    assert find_slot(salon, "cut", "anna", start, LONG_AGO, taken) is None, why


def test_find_slot_respects_the_minimum_notice() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-12:00")]}),
        rules=policies(min_notice=timedelta(hours=2)),
    )
    now = at(MONDAY, "08:00")
    assert find_slot(salon, "cut", "anna", at(MONDAY, "09:30"), now, ()) is None
    assert find_slot(salon, "cut", "anna", at(MONDAY, "10:00"), now, ()) is not None


def test_find_slot_refuses_the_second_pass_of_the_fold() -> None:
    day = date(2026, 10, 25)
    salon = catalog(staff("anna", {day: [period("01:00-04:00")]}))
    assert find_slot(salon, "cut", "anna", at(day, "02:00"), LONG_AGO, ()) is not None
    assert find_slot(salon, "cut", "anna", at(day, "02:00", fold=1), LONG_AGO, ()) is None


def test_find_slot_finds_the_after_midnight_part_of_a_night_shift() -> None:
    salon = catalog(staff("anna", {MONDAY: [period("20:00-02:00")]}))
    found = find_slot(salon, "cut", "anna", at(TUESDAY, "00:30"), LONG_AGO, ())
    assert found is not None
    assert found.end == at(TUESDAY, "01:30")


def test_find_slot_refuses_a_staff_member_who_does_not_perform_the_service() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-12:00")]}),
        services=[service(), service("nails")],
    )
    with pytest.raises(StaffDoesNotPerform):
        find_slot(salon, "nails", "anna", at(MONDAY, "10:00"), LONG_AGO, ())


# --- nearest -----------------------------------------------------------------------------


def test_nearest_orders_by_distance_then_earlier_first() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-13:00")]}),
        staff("olga", {MONDAY: [period("09:00-13:00")]}),
    )
    slots = slots_on(salon, MONDAY)
    picked = nearest(slots, at(MONDAY, "10:15"), count=4)
    assert [(local(s.start, BERLIN)[:5], s.staff_key) for s in picked] == [
        ("10:00", "anna"),
        ("10:00", "olga"),
        ("10:30", "anna"),
        ("10:30", "olga"),
    ]
    assert len(nearest(slots, at(MONDAY, "10:15"))) == 3
    assert nearest([], at(MONDAY, "10:15")) == []


# --- the demo salon ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Catalog:
    return load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))[1]


def test_the_demo_salon_closes_for_christmas_eve_and_opens_short_on_new_years_eve(
    demo: Catalog,
) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
    christmas_eve = SlotQuery("womens-haircut", date(2026, 12, 24), date(2026, 12, 24), "anna")
    new_years_eve = SlotQuery("womens-haircut", date(2026, 12, 31), date(2026, 12, 31), "anna")
    assert free_slots(demo, christmas_eve, now, {}) == []
    short_day = free_slots(demo, new_years_eve, now, {})
    assert starts(short_day)[0] == "10:00+01:00"
    assert starts(short_day)[-1] == "13:00+01:00"
    assert len(short_day) == 13


def test_the_demo_salon_offers_anna_her_own_colouring_time(demo: Catalog) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
    tuesday = date(2026, 12, 8)
    slots = free_slots(demo, SlotQuery("colouring", tuesday, tuesday, "anna"), now, {})
    assert all(s.end - s.start == timedelta(hours=2, minutes=30) for s in slots)
    # 10:00-19:00 with a break 14:00-14:45 and buffers of 10 before and 15 after.
    assert starts(slots) == [
        "10:00+01:00",
        "10:15+01:00",
        "10:30+01:00",
        "10:45+01:00",
        "11:00+01:00",
        "11:15+01:00",
        "15:00+01:00",
        "15:15+01:00",
        "15:30+01:00",
        "15:45+01:00",
        "16:00+01:00",
        "16:15+01:00",
        "16:30+01:00",
    ]


# --- dates at the ends of the calendar (a forged button, a mistyped --from) ---------------

LOW_EDGES = [date.min, date(1, 1, 2), date(1, 1, 8)]
HIGH_EDGES = [date(9999, 12, 24), date(9999, 12, 30), date.max]
EDGE_ZONES = [BERLIN, NEW_YORK, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]
EDGE_RANGES = [
    *((first, last) for first in LOW_EDGES for last in LOW_EDGES),
    *((first, last) for first in HIGH_EDGES for last in HIGH_EDGES),
    (date.max, date.min),
]


@pytest.mark.parametrize("zone", EDGE_ZONES, ids=str)
@pytest.mark.parametrize(("first", "last"), EDGE_RANGES, ids=str)
def test_days_at_the_ends_of_the_calendar_offer_nothing_and_raise_nothing(
    zone: ZoneInfo, first: date, last: date
) -> None:
    salon = catalog(staff("anna", {MONDAY: [period("00:00-24:00")]}), zone=zone)
    assert slots_on(salon, first, last) == []
    assert slots_on(salon, first, last, staff_key="anna") == []


@pytest.mark.parametrize("zone", EDGE_ZONES, ids=str)
@pytest.mark.parametrize(
    "start",
    [
        datetime.min.replace(tzinfo=UTC),
        datetime(1, 1, 1, 1, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
    ],
    ids=str,
)
def test_find_slot_at_the_ends_of_the_calendar_finds_nothing(
    zone: ZoneInfo, start: datetime
) -> None:
    salon = catalog(staff("anna", {MONDAY: [period("00:00-24:00")]}), zone=zone)
    assert find_slot(salon, "cut", "anna", start, LONG_AGO, ()) is None


def test_a_query_reaching_far_past_the_horizon_offers_what_the_horizon_allows() -> None:
    salon = catalog(
        staff("anna", {MONDAY: [period("09:00-11:00")]}),
        rules=policies(horizon=timedelta(days=8)),
    )
    now = at(MONDAY, "06:00")
    assert dated(slots_on(salon, MONDAY - timedelta(days=9000), date.max, now=now)) == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
    ]


@pytest.mark.parametrize("zone", EDGE_ZONES, ids=str)
@pytest.mark.parametrize("day", [*LOW_EDGES, *HIGH_EDGES], ids=str)
def test_the_windows_of_busy_time_at_the_ends_of_the_calendar_are_clamped(
    zone: ZoneInfo, day: date
) -> None:
    from core.services.busy_time import local_day_span, local_days_window

    salon = catalog(staff("anna", {MONDAY: [period("09:00-12:00")]}), zone=zone)
    window = local_days_window(salon, day, day)
    span = local_day_span(salon, day)
    assert window.contains(span)
    assert span.duration == timedelta(days=1)
    assert abs(span.start - datetime.combine(day, time(0), UTC)) < timedelta(days=8)
