"""When reminders, follow-ups and agendas are due: real time, local time on DST days and
around midnight, quiet hours, and the reminders that are skipped rather than sent late."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.durations import format_duration
from core.domain.reminders import (
    BEFORE_QUIET,
    SKIPPED_AT_VISIT,
    SKIPPED_BEFORE_BOOKING,
    SKIPPED_QUIET,
    SKIPPED_QUIET_BEFORE_BOOKING,
    BeforeVisit,
    DayBeforeAt,
    FollowUp,
    PlannedReminder,
    QuietHours,
    ReminderPolicy,
    ReminderRule,
    agenda_due,
    first_reminder,
    follow_up_due,
    in_quiet_hours,
    next_quiet_start,
    out_of_quiet_hours,
    plan_reminders,
)
from core.domain.timeline import local_to_utc

BERLIN = ZoneInfo("Europe/Berlin")
SANTIAGO = ZoneInfo("America/Santiago")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST moves the clock by half an hour
KATHMANDU = ZoneInfo("Asia/Kathmandu")

NIGHT = QuietHours(time(21, 0), time(9, 0))
DAY_BEFORE_18 = DayBeforeAt(time(18, 0))
ONE_DAY = BeforeVisit(timedelta(hours=24))
TWO_HOURS = BeforeVisit(timedelta(hours=2))
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    """An instant given by its local wall-clock time in ``zone``."""
    return datetime(*parts, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[arg-type, misc]


def plan(
    *rules: ReminderRule,
    visit: datetime,
    made_at: datetime = LONG_AGO,
    quiet: QuietHours | None = None,
    zone: ZoneInfo = BERLIN,
) -> dict[str, PlannedReminder]:
    policy = ReminderPolicy(rules=rules, quiet_hours=quiet)
    return {p.rule: p for p in plan_reminders(policy, visit, made_at, zone)}


def dues(planned: dict[str, PlannedReminder]) -> dict[str, datetime]:
    assert not any(p.skipped for p in planned.values()), planned
    return {rule: p.due for rule, p in planned.items()}


# Rule keys


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        (BeforeVisit(timedelta(hours=24)), "before:24h"),
        (BeforeVisit(timedelta(days=1)), "before:24h"),
        (BeforeVisit(timedelta(hours=2)), "before:2h"),
        (BeforeVisit(timedelta(minutes=90)), "before:1h30m"),
        (BeforeVisit(timedelta(minutes=45)), "before:45m"),
        (BeforeVisit(timedelta(days=14)), "before:336h"),
        (DayBeforeAt(time(18, 0)), "day_before_at:18:00"),
        (DayBeforeAt(time(9, 5)), "day_before_at:09:05"),
        (DayBeforeAt(time(0, 0)), "day_before_at:00:00"),
    ],
)
def test_a_rule_is_named_by_its_kind_and_its_setting(rule: ReminderRule, key: str) -> None:
    assert rule.key == key


@pytest.mark.parametrize(
    ("duration", "written"),
    [
        (timedelta(0), "0m"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=1, minutes=5), "1h5m"),
        (timedelta(days=60), "1440h"),
        (timedelta(minutes=-90), "-1h30m"),
    ],
)
def test_a_duration_is_written_in_whole_hours_and_minutes(
    duration: timedelta, written: str
) -> None:
    assert format_duration(duration) == written


# Due times on ordinary days


def test_before_counts_real_time_back_from_the_visit() -> None:
    visit = local(BERLIN, 2027, 1, 20, 10, 0)

    planned = plan(ONE_DAY, TWO_HOURS, visit=visit)

    assert dues(planned) == {"before:24h": utc(2027, 1, 19, 9, 0), "before:2h": utc(2027, 1, 20, 7)}


def test_day_before_at_is_the_local_time_on_the_local_day_before() -> None:
    visit = local(BERLIN, 2027, 7, 20, 10, 0)

    assert dues(plan(DAY_BEFORE_18, visit=visit)) == {
        "day_before_at:18:00": local(BERLIN, 2027, 7, 19, 18, 0)
    }


def test_the_planned_reminders_keep_the_policys_order() -> None:
    policy = ReminderPolicy(rules=(TWO_HOURS, DAY_BEFORE_18, ONE_DAY))

    planned = plan_reminders(policy, local(BERLIN, 2027, 1, 20, 10), LONG_AGO, BERLIN)

    assert [p.rule for p in planned] == ["before:2h", "day_before_at:18:00", "before:24h"]


def test_every_due_time_is_in_utc() -> None:
    planned = plan(ONE_DAY, DAY_BEFORE_18, visit=local(SANTIAGO, 2027, 1, 20, 10), zone=SANTIAGO)

    assert all(p.due.tzinfo is UTC for p in planned.values())


def test_a_naive_visit_time_is_refused() -> None:
    naive = datetime(2027, 1, 20, 10, 0)  # noqa: DTZ001

    with pytest.raises(ValueError, match="naive"):
        plan_reminders(ReminderPolicy(rules=(ONE_DAY,)), naive, LONG_AGO, BERLIN)


def test_no_rules_plan_no_reminders() -> None:
    assert plan_reminders(ReminderPolicy(), local(BERLIN, 2027, 1, 20, 10), LONG_AGO, BERLIN) == []


# DST days in Berlin: 2027-03-28 02:00 -> 03:00; 2027-10-31 03:00 -> 02:00


def test_a_day_before_reminder_on_the_day_before_spring_forward_keeps_its_local_time() -> None:
    # The visit is on the short day itself; the reminder on the Saturday before, still CET.
    visit = local(BERLIN, 2027, 3, 28, 10, 0)

    assert dues(plan(DAY_BEFORE_18, visit=visit)) == {"day_before_at:18:00": utc(2027, 3, 27, 17)}


def test_a_day_before_reminder_on_the_spring_forward_day_keeps_its_local_time() -> None:
    visit = local(BERLIN, 2027, 3, 29, 10, 0)

    assert dues(plan(DAY_BEFORE_18, visit=visit)) == {"day_before_at:18:00": utc(2027, 3, 28, 16)}


def test_24_hours_before_a_visit_after_spring_forward_is_an_hour_earlier_on_the_clock() -> None:
    visit = local(BERLIN, 2027, 3, 28, 10, 0)  # 08:00 UTC, CEST

    due = dues(plan(ONE_DAY, visit=visit))["before:24h"]

    assert due == utc(2027, 3, 27, 8, 0)
    assert due.astimezone(BERLIN).hour == 9  # CET: only 23 hours of wall clock passed


def test_24_hours_before_a_visit_after_fall_back_is_an_hour_later_on_the_clock() -> None:
    visit = local(BERLIN, 2027, 10, 31, 10, 0)  # 09:00 UTC, CET

    due = dues(plan(ONE_DAY, visit=visit))["before:24h"]

    assert due == utc(2027, 10, 30, 9, 0)
    assert due.astimezone(BERLIN).hour == 11  # CEST: 25 hours of wall clock


def test_a_day_before_time_the_clock_skips_moves_to_the_end_of_the_gap() -> None:
    visit = local(BERLIN, 2027, 3, 29, 10, 0)

    assert dues(plan(DayBeforeAt(time(2, 30)), visit=visit)) == {
        "day_before_at:02:30": utc(2027, 3, 28, 1, 0)  # 03:00 CEST
    }


def test_a_day_before_time_the_clock_repeats_is_its_first_occurrence() -> None:
    visit = local(BERLIN, 2027, 11, 1, 10, 0)

    assert dues(plan(DayBeforeAt(time(2, 30)), visit=visit)) == {
        "day_before_at:02:30": utc(2027, 10, 31, 0, 30)  # 02:30 CEST, not CET
    }


# America/Santiago: 2027-04-03 24:00 -> 23:00 (23:xx twice); 2027-09-05 00:00 -> 01:00


def test_santiago_a_day_before_time_the_clock_repeats_is_its_first_occurrence() -> None:
    visit = local(SANTIAGO, 2027, 4, 4, 10, 0)

    assert dues(plan(DayBeforeAt(time(23, 30)), visit=visit, zone=SANTIAGO)) == {
        "day_before_at:23:30": utc(2027, 4, 4, 2, 30)  # 23:30 -03, not -04
    }


def test_santiago_a_day_before_time_in_the_missing_midnight_hour_moves_to_one_oclock() -> None:
    visit = local(SANTIAGO, 2027, 9, 6, 10, 0)

    assert dues(plan(DayBeforeAt(time(0, 30)), visit=visit, zone=SANTIAGO)) == {
        "day_before_at:00:30": utc(2027, 9, 5, 4, 0)  # 01:00 -03
    }


def test_santiago_a_visit_when_the_day_without_midnight_opens_is_reminded_the_day_before() -> None:
    visit = local(SANTIAGO, 2027, 9, 5, 1, 0)  # the first instant of 2027-09-05

    assert dues(plan(DAY_BEFORE_18, ONE_DAY, visit=visit, zone=SANTIAGO)) == {
        "day_before_at:18:00": utc(2027, 9, 4, 22, 0),  # 18:00 -04
        "before:24h": utc(2027, 9, 4, 4, 0),  # 00:00 -04 on the 4th: real time
    }


def test_santiago_24_hours_before_a_visit_after_the_autumn_change_is_real_time() -> None:
    visit = local(SANTIAGO, 2027, 4, 4, 10, 0)  # -04

    due = dues(plan(ONE_DAY, visit=visit, zone=SANTIAGO))["before:24h"]

    assert due == utc(2027, 4, 3, 14, 0)
    assert due.astimezone(SANTIAGO).hour == 11  # -03 the day before


# Midnight


def test_a_visit_at_midnight_belongs_to_the_day_it_begins_so_is_reminded_that_evening() -> None:
    visit = local(BERLIN, 2027, 1, 21, 0, 0)

    assert dues(plan(DAY_BEFORE_18, visit=visit)) == {
        "day_before_at:18:00": local(BERLIN, 2027, 1, 20, 18, 0)
    }


def test_a_visit_just_before_midnight_is_reminded_the_day_before_it() -> None:
    visit = local(BERLIN, 2027, 1, 20, 23, 59)

    assert dues(plan(DAY_BEFORE_18, visit=visit)) == {
        "day_before_at:18:00": local(BERLIN, 2027, 1, 19, 18, 0)
    }


def test_a_day_before_reminder_at_midnight_is_the_midnight_that_begins_the_day_before() -> None:
    visit = local(BERLIN, 2027, 1, 20, 10, 0)

    assert dues(plan(DayBeforeAt(time(0, 0)), visit=visit)) == {
        "day_before_at:00:00": local(BERLIN, 2027, 1, 19, 0, 0)
    }


# Quiet hours


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        ((20, 59), False),
        ((21, 0), True),
        ((23, 59), True),
        ((0, 0), True),
        ((8, 59), True),
        ((9, 0), False),
        ((12, 0), False),
    ],
)
def test_quiet_hours_across_midnight_include_their_start_and_not_their_end(
    wall: tuple[int, int], quiet: bool
) -> None:
    assert in_quiet_hours(local(BERLIN, 2027, 1, 20, *wall), NIGHT, BERLIN) is quiet


def test_quiet_hours_within_a_day_cover_only_that_part_of_it() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))

    assert not in_quiet_hours(local(BERLIN, 2027, 1, 20, 11, 59), lunch, BERLIN)
    assert in_quiet_hours(local(BERLIN, 2027, 1, 20, 12, 0), lunch, BERLIN)
    assert not in_quiet_hours(local(BERLIN, 2027, 1, 20, 14, 0), lunch, BERLIN)
    assert not in_quiet_hours(local(BERLIN, 2027, 1, 20, 23, 0), lunch, BERLIN)


def test_quiet_hours_are_read_on_the_salons_clock() -> None:
    # 21:30 in Berlin is 20:30 UTC: quiet in Berlin, not in UTC.
    moment = local(BERLIN, 2027, 1, 20, 21, 30)

    assert in_quiet_hours(moment, NIGHT, BERLIN)
    assert not in_quiet_hours(moment, NIGHT, ZoneInfo("UTC"))


def test_no_quiet_hours_are_never_quiet() -> None:
    assert not in_quiet_hours(local(BERLIN, 2027, 1, 20, 3, 0), None, BERLIN)


def test_quiet_hours_that_start_when_they_end_are_refused() -> None:
    with pytest.raises(ValueError, match="same time"):
        QuietHours(time(21, 0), time(21, 0))


def test_a_reminder_due_in_the_night_goes_when_the_night_ends() -> None:
    visit = local(BERLIN, 2027, 1, 20, 11, 0)  # 12 hours before: 23:00, quiet

    planned = plan(BeforeVisit(timedelta(hours=12)), visit=visit, quiet=NIGHT)

    assert dues(planned) == {"before:12h": local(BERLIN, 2027, 1, 20, 9, 0)}


def test_a_reminder_due_after_midnight_in_the_night_goes_that_morning() -> None:
    visit = local(BERLIN, 2027, 1, 20, 11, 0)  # 8 hours before: 03:00, quiet

    planned = plan(BeforeVisit(timedelta(hours=8)), visit=visit, quiet=NIGHT)

    assert dues(planned) == {"before:8h": local(BERLIN, 2027, 1, 20, 9, 0)}


def test_a_reminder_whose_night_ends_after_the_visit_goes_before_the_night_begins() -> None:
    visit = local(BERLIN, 2027, 1, 20, 8, 30)  # 2 hours before: 06:30; the night ends 09:00

    planned = plan(TWO_HOURS, visit=visit, quiet=NIGHT)

    assert dues(planned) == {"before:2h": local(BERLIN, 2027, 1, 19, 21, 0) - BEFORE_QUIET}


def test_a_reminder_whose_night_ends_as_the_visit_starts_goes_before_the_night() -> None:
    visit = local(BERLIN, 2027, 1, 20, 9, 0)  # the end of the quiet hours is no time before it

    planned = plan(TWO_HOURS, visit=visit, quiet=NIGHT)

    assert dues(planned) == {"before:2h": local(BERLIN, 2027, 1, 19, 20, 50)}


def test_a_reminder_just_before_a_visit_at_midnight_goes_before_the_night() -> None:
    visit = local(BERLIN, 2027, 1, 21, 0, 15)

    planned = plan(TWO_HOURS, visit=visit, quiet=NIGHT)

    assert dues(planned) == {"before:2h": local(BERLIN, 2027, 1, 20, 20, 50)}


def test_a_reminder_outside_the_quiet_hours_keeps_its_time() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)

    assert dues(plan(TWO_HOURS, visit=visit, quiet=NIGHT)) == {
        "before:2h": local(BERLIN, 2027, 1, 20, 13, 0)
    }


def test_a_reminder_ahead_of_short_waking_hours_never_lands_in_the_night_before() -> None:
    # Awake only 09:00-09:05: ten minutes before the night would be inside the one before.
    long_night = QuietHours(time(9, 5), time(9, 0))
    visit = local(BERLIN, 2027, 1, 20, 8, 0)  # 2 hours before: 06:00, in the night

    due = dues(plan(TWO_HOURS, visit=visit, quiet=long_night))["before:2h"]

    assert due == local(BERLIN, 2027, 1, 19, 9, 0)
    assert not in_quiet_hours(due, long_night, BERLIN)


def test_quiet_hours_ending_at_midnight_end_at_the_next_midnight() -> None:
    evening = QuietHours(time(21, 0), time(0, 0))  # written "21:00-24:00"
    visit = local(BERLIN, 2027, 1, 21, 10, 0)  # 12 hours before: 22:00

    assert dues(plan(BeforeVisit(timedelta(hours=12)), visit=visit, quiet=evening)) == {
        "before:12h": local(BERLIN, 2027, 1, 21, 0, 0)
    }


def test_the_end_of_a_night_in_the_repeated_hour_is_its_occurrence_after_the_reminder() -> None:
    # Berlin 2027-10-31: 02:00-02:59 twice. Quiet until 02:30; due 02:15 the second time.
    quiet = QuietHours(time(21, 0), time(2, 30))
    due = local(BERLIN, 2027, 10, 31, 2, 15, fold=1)  # 01:15 UTC, after 02:30 CEST
    visit = local(BERLIN, 2027, 10, 31, 12, 0)

    moved = out_of_quiet_hours(due, visit, quiet, BERLIN)

    assert moved == utc(2027, 10, 31, 1, 30)  # 02:30 CET
    assert moved is not None
    assert not in_quiet_hours(moved, quiet, BERLIN)


def test_moving_out_of_quiet_hours_gives_nothing_when_even_their_start_is_too_late() -> None:
    due = local(BERLIN, 2027, 1, 20, 22, 0)
    deadline = local(BERLIN, 2027, 1, 20, 20, 0)

    assert out_of_quiet_hours(due, deadline, NIGHT, BERLIN) is None


def test_moving_a_time_outside_the_quiet_hours_leaves_it_as_it_is() -> None:
    due = local(BERLIN, 2027, 1, 20, 12, 0)

    assert out_of_quiet_hours(due, due + timedelta(hours=1), NIGHT, BERLIN) == due
    assert out_of_quiet_hours(due, due + timedelta(hours=1), None, BERLIN) == due


# The next quiet hours (a queued message's deadline)


def test_the_next_quiet_hours_begin_at_their_start_that_evening() -> None:
    moment = local(BERLIN, 2027, 1, 20, 20, 50)

    assert next_quiet_start(moment, NIGHT, BERLIN) == local(BERLIN, 2027, 1, 20, 21, 0)


def test_from_the_morning_after_the_night_the_next_quiet_hours_begin_that_evening() -> None:
    moment = local(BERLIN, 2027, 1, 21, 9, 0)

    assert next_quiet_start(moment, NIGHT, BERLIN) == local(BERLIN, 2027, 1, 21, 21, 0)


def test_from_inside_the_quiet_hours_the_next_ones_begin_the_evening_after() -> None:
    for wall in ((21, 0), (23, 30), (2, 0)):
        day = 20 if wall[0] >= 21 else 21
        moment = local(BERLIN, 2027, 1, day, *wall)
        assert next_quiet_start(moment, NIGHT, BERLIN) == local(BERLIN, 2027, 1, 21, 21, 0)


def test_quiet_hours_within_a_day_already_past_begin_again_the_next_day() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))
    moment = local(BERLIN, 2027, 1, 20, 15, 0)

    assert next_quiet_start(moment, lunch, BERLIN) == local(BERLIN, 2027, 1, 21, 12, 0)


def test_without_quiet_hours_there_is_no_next_start() -> None:
    assert next_quiet_start(local(BERLIN, 2027, 1, 20, 20, 50), None, BERLIN) is None


def test_the_next_quiet_start_is_read_on_the_salons_clock_across_a_clock_change() -> None:
    # The night of 2027-03-27 is on winter time, the next on summer time.
    moment = local(BERLIN, 2027, 3, 27, 22, 0)

    assert next_quiet_start(moment, NIGHT, BERLIN) == utc(2027, 3, 28, 19, 0)  # 21:00 CEST


def test_quiet_hours_starting_in_the_hour_the_clock_skips_begin_when_it_resumes() -> None:
    # Berlin 2027-03-28: 02:00 -> 03:00; quiet from 02:30.
    early = QuietHours(time(2, 30), time(6, 0))
    moment = local(BERLIN, 2027, 3, 27, 12, 0)

    assert next_quiet_start(moment, early, BERLIN) == utc(2027, 3, 28, 1, 0)  # 03:00 CEST


def test_quiet_hours_at_a_missing_midnight_begin_at_one_oclock() -> None:
    # Santiago 2027-09-05: 00:00 -> 01:00.
    small_hours = QuietHours(time(0, 0), time(7, 0))
    moment = local(SANTIAGO, 2027, 9, 4, 22, 0)

    assert next_quiet_start(moment, small_hours, SANTIAGO) == utc(2027, 9, 5, 4, 0)  # 01:00 -03


def test_quiet_hours_starting_in_the_repeated_hour_begin_at_its_first_occurrence() -> None:
    # Berlin 2027-10-31: 02:00-02:59 twice; quiet from 02:30.
    early = QuietHours(time(2, 30), time(6, 0))
    moment = local(BERLIN, 2027, 10, 30, 12, 0)

    assert next_quiet_start(moment, early, BERLIN) == utc(2027, 10, 31, 0, 30)  # 02:30 CEST


def test_between_the_two_occurrences_of_a_repeated_start_the_second_begins_them() -> None:
    # Back at 02:10 the second time the clock reads before 02:30: not quiet until 02:30 CET.
    early = QuietHours(time(2, 30), time(6, 0))
    moment = local(BERLIN, 2027, 10, 31, 2, 10, fold=1)

    assert not in_quiet_hours(moment, early, BERLIN)
    assert next_quiet_start(moment, early, BERLIN) == utc(2027, 10, 31, 1, 30)  # 02:30 CET


def test_a_clock_turned_back_into_the_quiet_hours_begins_them_as_it_turns() -> None:
    # Quiet until 02:30; at 02:40 CEST the clock still turns back to 02:00, quiet again.
    short_night = QuietHours(time(21, 0), time(2, 30))
    moment = local(BERLIN, 2027, 10, 31, 2, 40)

    turned = next_quiet_start(moment, short_night, BERLIN)

    assert turned == utc(2027, 10, 31, 1, 0)  # 02:00 CET
    assert in_quiet_hours(turned, short_night, BERLIN)


def test_santiago_quiet_hours_from_a_repeated_time_begin_at_its_first_occurrence() -> None:
    # Santiago 2027-04-03: 24:00 -> 23:00 (23:xx twice); quiet from 23:30.
    late = QuietHours(time(23, 30), time(7, 0))
    moment = local(SANTIAGO, 2027, 4, 3, 12, 0)

    assert next_quiet_start(moment, late, SANTIAGO) == utc(2027, 4, 4, 2, 30)  # 23:30 -03


# Skipped reminders


def test_a_reminder_due_before_the_booking_was_made_is_skipped_never_sent_late() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)
    made_at = local(BERLIN, 2027, 1, 20, 10, 0)

    planned = plan(ONE_DAY, DAY_BEFORE_18, TWO_HOURS, visit=visit, made_at=made_at)

    assert planned["before:24h"].skipped == SKIPPED_BEFORE_BOOKING
    assert planned["day_before_at:18:00"].skipped == SKIPPED_BEFORE_BOOKING
    assert planned["before:2h"] == PlannedReminder("before:2h", local(BERLIN, 2027, 1, 20, 13))


def test_a_reminder_due_the_moment_the_booking_is_made_is_skipped() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)

    planned = plan(TWO_HOURS, visit=visit, made_at=visit - timedelta(hours=2))

    assert planned["before:2h"].skipped == SKIPPED_BEFORE_BOOKING


def test_a_skipped_reminder_keeps_the_time_it_was_due_for_the_record() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)

    planned = plan(ONE_DAY, visit=visit, made_at=visit - timedelta(hours=1))

    assert planned["before:24h"].due == visit - timedelta(hours=24)


def test_a_reminder_the_night_pushes_before_the_booking_is_skipped() -> None:
    # Booked at 20:55 for 08:00: the 06:00 reminder cannot go at 09:00, nor at 20:50.
    visit = local(BERLIN, 2027, 1, 21, 8, 0)
    made_at = local(BERLIN, 2027, 1, 20, 20, 55)

    planned = plan(TWO_HOURS, visit=visit, made_at=made_at, quiet=NIGHT)

    assert planned["before:2h"].skipped == SKIPPED_QUIET_BEFORE_BOOKING


def test_a_reminder_due_at_the_visit_is_skipped() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)

    planned = plan(BeforeVisit(timedelta(0)), visit=visit)

    assert planned["before:0m"].skipped == SKIPPED_AT_VISIT


# The first reminder


def test_the_first_reminder_is_the_earliest_one_not_skipped() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)
    made_at = local(BERLIN, 2027, 1, 19, 17, 0)  # after the 24-hour one

    planned = plan_reminders(
        ReminderPolicy(rules=(TWO_HOURS, ONE_DAY, DAY_BEFORE_18)), visit, made_at, BERLIN
    )

    assert first_reminder(planned) == "day_before_at:18:00"


def test_of_two_reminders_due_at_once_the_first_listed_is_the_first() -> None:
    visit = local(BERLIN, 2027, 1, 20, 18, 0)  # 24 hours before is 18:00 the day before

    planned = plan_reminders(
        ReminderPolicy(rules=(DAY_BEFORE_18, ONE_DAY)), visit, LONG_AGO, BERLIN
    )

    assert planned[0].due == planned[1].due
    assert first_reminder(planned) == "day_before_at:18:00"


def test_there_is_no_first_reminder_when_every_one_is_skipped() -> None:
    visit = local(BERLIN, 2027, 1, 20, 15, 0)

    planned = plan_reminders(
        ReminderPolicy(rules=(ONE_DAY,)), visit, visit - timedelta(hours=1), BERLIN
    )

    assert first_reminder(planned) is None
    assert first_reminder([]) is None


# The follow-up


def test_the_follow_up_is_due_after_the_visit_ends() -> None:
    end = local(BERLIN, 2027, 1, 20, 12, 0)

    assert follow_up_due(FollowUp(timedelta(hours=2)), end, NIGHT, BERLIN) == end + timedelta(
        hours=2
    )


def test_a_follow_up_due_in_the_night_waits_for_the_morning() -> None:
    end = local(BERLIN, 2027, 1, 20, 20, 0)

    assert follow_up_due(FollowUp(timedelta(hours=2)), end, NIGHT, BERLIN) == local(
        BERLIN, 2027, 1, 21, 9, 0
    )


def test_a_follow_up_with_no_delay_goes_as_the_visit_ends() -> None:
    end = local(BERLIN, 2027, 1, 20, 12, 0)

    assert follow_up_due(FollowUp(timedelta(0)), end, None, BERLIN) == end


# The agenda


def test_the_agenda_is_due_at_the_local_time_of_its_day() -> None:
    assert agenda_due(date(2027, 1, 20), time(8, 0), BERLIN) == utc(2027, 1, 20, 7, 0)
    assert agenda_due(date(2027, 7, 20), time(8, 0), BERLIN) == utc(2027, 7, 20, 6, 0)


def test_an_agenda_time_the_clock_skips_moves_to_the_end_of_the_gap() -> None:
    assert agenda_due(date(2027, 3, 28), time(2, 30), BERLIN) == utc(2027, 3, 28, 1, 0)
    assert agenda_due(date(2027, 9, 5), time(0, 0), SANTIAGO) == utc(2027, 9, 5, 4, 0)


def test_an_agenda_time_the_clock_repeats_is_its_first_occurrence() -> None:
    assert agenda_due(date(2027, 10, 31), time(2, 30), BERLIN) == utc(2027, 10, 31, 0, 30)
    assert agenda_due(date(2027, 4, 3), time(23, 30), SANTIAGO) == utc(2027, 4, 4, 2, 30)


# Properties

ZONES = st.sampled_from([BERLIN, SANTIAGO, LORD_HOWE, KATHMANDU, ZoneInfo("UTC")])
CLOCK_TIMES = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
RULES: st.SearchStrategy[ReminderRule] = st.one_of(
    st.builds(BeforeVisit, st.integers(1, 14 * 24 * 60).map(lambda m: timedelta(minutes=m))),
    st.builds(DayBeforeAt, CLOCK_TIMES),
)
QUIET = st.none() | st.tuples(CLOCK_TIMES, CLOCK_TIMES).filter(lambda t: t[0] != t[1]).map(
    lambda t: QuietHours(*t)
)
# Every minute of 2026-2029, DST days included.
INSTANTS = st.integers(0, 4 * 366 * 24 * 60).map(lambda m: utc(2026, 1, 1) + timedelta(minutes=m))
BOOKED_AHEAD = st.integers(0, 20 * 24 * 60).map(lambda m: timedelta(minutes=m))
SKIP_REASONS = {
    SKIPPED_AT_VISIT,
    SKIPPED_BEFORE_BOOKING,
    SKIPPED_QUIET,
    SKIPPED_QUIET_BEFORE_BOOKING,
}


@settings(max_examples=400, deadline=None)
@given(
    rules=st.lists(RULES, max_size=6),
    quiet=QUIET,
    visit=INSTANTS,
    ahead=BOOKED_AHEAD,
    zone=ZONES,
)
def test_every_planned_reminder_is_between_the_booking_and_the_visit_and_not_in_quiet_hours(
    rules: list[ReminderRule],
    quiet: QuietHours | None,
    visit: datetime,
    ahead: timedelta,
    zone: ZoneInfo,
) -> None:
    made_at = visit - ahead
    policy = ReminderPolicy(rules=tuple(rules), quiet_hours=quiet)

    planned = plan_reminders(policy, visit, made_at, zone)

    assert [p.rule for p in planned] == [rule.key for rule in rules]
    for reminder in planned:
        assert reminder.due.tzinfo is UTC
        if reminder.skipped:
            assert reminder.skipped in SKIP_REASONS
        else:
            assert made_at < reminder.due < visit
            assert not in_quiet_hours(reminder.due, quiet, zone)


@settings(max_examples=400, deadline=None)
@given(rule=RULES, quiet=QUIET, visit=INSTANTS, ahead=BOOKED_AHEAD, zone=ZONES)
def test_a_reminder_due_outside_quiet_hours_after_the_booking_goes_exactly_on_time(
    rule: ReminderRule, quiet: QuietHours | None, visit: datetime, ahead: timedelta, zone: ZoneInfo
) -> None:
    made_at = visit - ahead
    (unquiet,) = plan_reminders(ReminderPolicy(rules=(rule,)), visit, made_at, zone)
    (planned,) = plan_reminders(ReminderPolicy((rule,), quiet), visit, made_at, zone)

    if unquiet.skipped:
        assert planned.skipped == unquiet.skipped
    elif not in_quiet_hours(unquiet.due, quiet, zone):
        assert planned == unquiet
    else:
        # Moved out of them: to their end (later) or ahead of them (earlier), never kept.
        assert planned.skipped or planned.due != unquiet.due


@settings(max_examples=300, deadline=None)
@given(
    after=st.integers(0, 7 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    quiet=QUIET,
    end=INSTANTS,
    zone=ZONES,
)
def test_a_follow_up_is_never_early_never_in_quiet_hours_and_at_most_a_day_late(
    after: timedelta, quiet: QuietHours | None, end: datetime, zone: ZoneInfo
) -> None:
    due = follow_up_due(FollowUp(after), end, quiet, zone)

    assert end + after <= due < end + after + timedelta(days=1)
    assert not in_quiet_hours(due, quiet, zone)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2026, 1, 1), date(2029, 12, 31)), at=CLOCK_TIMES, zone=ZONES)
def test_an_agenda_falls_on_its_own_local_day_at_its_time_or_just_after_a_gap(
    day: date, at: time, zone: ZoneInfo
) -> None:
    due = agenda_due(day, at, zone)

    seen = due.astimezone(zone)
    assert seen.date() == day
    if local_to_utc(datetime.combine(day, at), zone) is None:  # the clock skips it
        assert seen.time() > at
    else:
        assert seen.time() == at


@settings(max_examples=200, deadline=None)
@given(moment=INSTANTS, quiet=QUIET.filter(lambda q: q is not None), zone=ZONES)
def test_the_next_quiet_start_is_the_first_quiet_minute_after_a_moment_outside_them(
    moment: datetime, quiet: QuietHours | None, zone: ZoneInfo
) -> None:
    if in_quiet_hours(moment, quiet, zone):
        return
    start = next_quiet_start(moment, quiet, zone)

    assert start is not None
    assert moment < start < moment + timedelta(days=2)
    assert in_quiet_hours(start, quiet, zone)
    # Quiet hours and clock changes fall on whole minutes: every minute before is awake.
    minute = moment
    while minute < start:
        assert not in_quiet_hours(minute, quiet, zone), minute
        minute += timedelta(minutes=1)
