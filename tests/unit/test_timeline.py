"""The absolute timeline: resolving local wall-clock times, intervals and interval sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.domain.timeline import (
    Interval,
    IntervalSet,
    boundary_to_utc,
    local_to_utc,
    merge,
    require_aware,
    to_utc,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KATHMANDU = ZoneInfo("Asia/Kathmandu")


def wall(*parts: int) -> datetime:
    """A local wall-clock time: deliberately without a zone, as local_to_utc takes it."""
    return datetime(*parts)  # type: ignore[arg-type]  # noqa: DTZ001


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def span(start_hour: float, end_hour: float) -> Interval:
    """An interval on 2026-06-01 UTC given in hours, for readable set arithmetic."""
    base = utc(2026, 6, 1)
    return Interval(base + timedelta(hours=start_hour), base + timedelta(hours=end_hour))


# local_to_utc


def test_an_ordinary_local_time_resolves_with_the_zones_offset() -> None:
    assert local_to_utc(wall(2026, 1, 15, 9, 0), BERLIN) == utc(2026, 1, 15, 8, 0)
    assert local_to_utc(wall(2026, 7, 15, 9, 0), BERLIN) == utc(2026, 7, 15, 7, 0)
    assert local_to_utc(wall(2026, 1, 15, 9, 0), NEW_YORK) == utc(2026, 1, 15, 14, 0)
    assert local_to_utc(wall(2026, 7, 15, 9, 0), NEW_YORK) == utc(2026, 7, 15, 13, 0)


def test_the_result_is_expressed_in_utc() -> None:
    instant = local_to_utc(wall(2026, 7, 15, 9, 0), BERLIN)
    assert instant is not None
    assert instant.tzinfo is UTC


def test_kathmandu_is_five_hours_forty_five_ahead_all_year() -> None:
    assert local_to_utc(wall(2026, 1, 15, 9, 0), KATHMANDU) == utc(2026, 1, 15, 3, 15)
    assert local_to_utc(wall(2026, 7, 15, 9, 0), KATHMANDU) == utc(2026, 7, 15, 3, 15)
    assert local_to_utc(wall(2026, 1, 1, 0, 0), KATHMANDU) == utc(2025, 12, 31, 18, 15)


@pytest.mark.parametrize(
    ("zone", "missing"),
    [
        # Berlin springs forward from 02:00 to 03:00 on 2026-03-29.
        (BERLIN, wall(2026, 3, 29, 2, 0)),
        (BERLIN, wall(2026, 3, 29, 2, 30)),
        (BERLIN, wall(2026, 3, 29, 2, 59)),
        # New York springs forward from 02:00 to 03:00 on 2026-03-08.
        (NEW_YORK, wall(2026, 3, 8, 2, 0)),
        (NEW_YORK, wall(2026, 3, 8, 2, 45)),
        # Lord Howe springs forward by half an hour, 02:00 to 02:30, on 2026-10-04.
        (LORD_HOWE, wall(2026, 10, 4, 2, 0)),
        (LORD_HOWE, wall(2026, 10, 4, 2, 29)),
    ],
)
def test_a_local_time_inside_the_dst_gap_has_no_instant(zone: ZoneInfo, missing: datetime) -> None:
    assert local_to_utc(missing, zone) is None


@pytest.mark.parametrize(
    ("zone", "edge", "expected"),
    [
        (BERLIN, wall(2026, 3, 29, 1, 59), utc(2026, 3, 29, 0, 59)),
        (BERLIN, wall(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1, 0)),
        (NEW_YORK, wall(2026, 3, 8, 1, 59), utc(2026, 3, 8, 6, 59)),
        (NEW_YORK, wall(2026, 3, 8, 3, 0), utc(2026, 3, 8, 7, 0)),
        (LORD_HOWE, wall(2026, 10, 4, 1, 59), utc(2026, 10, 3, 15, 29)),
        (LORD_HOWE, wall(2026, 10, 4, 2, 30), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_the_local_times_either_side_of_the_gap_exist(
    zone: ZoneInfo, edge: datetime, expected: datetime
) -> None:
    assert local_to_utc(edge, zone) == expected


@pytest.mark.parametrize(
    ("zone", "ambiguous", "first", "second"),
    [
        # Berlin falls back from 03:00 CEST to 02:00 CET on 2026-10-25.
        (BERLIN, wall(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        # New York falls back from 02:00 EDT to 01:00 EST on 2026-11-01.
        (NEW_YORK, wall(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
        # Lord Howe falls back by half an hour, 02:00 to 01:30, on 2026-04-05.
        (
            LORD_HOWE,
            wall(2026, 4, 5, 1, 45),
            utc(2026, 4, 4, 14, 45),
            utc(2026, 4, 4, 15, 15),
        ),
    ],
)
def test_a_local_time_in_the_dst_fold_resolves_to_its_first_occurrence(
    zone: ZoneInfo, ambiguous: datetime, first: datetime, second: datetime
) -> None:
    # Both instants really show this wall time, so the choice is a rule, not an accident.
    for instant in (first, second):
        assert instant.astimezone(zone).replace(tzinfo=None, fold=0) == ambiguous
    assert local_to_utc(ambiguous, zone) == first
    assert local_to_utc(ambiguous.replace(fold=1), zone) == first


def test_lord_howes_fold_lasts_only_half_an_hour() -> None:
    # 01:29 happens once, 01:30 to 01:59 twice, 02:00 once (in standard time).
    assert local_to_utc(wall(2026, 4, 5, 1, 29), LORD_HOWE) == utc(2026, 4, 4, 14, 29)
    assert local_to_utc(wall(2026, 4, 5, 2, 0), LORD_HOWE) == utc(2026, 4, 4, 15, 30)


def test_a_wall_time_with_a_zone_is_refused_by_local_to_utc() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_to_utc(datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN), BERLIN)


# boundary_to_utc


def test_a_boundary_that_exists_resolves_like_any_local_time() -> None:
    assert boundary_to_utc(wall(2026, 6, 1, 9, 0), BERLIN) == utc(2026, 6, 1, 7, 0)


@pytest.mark.parametrize(
    ("zone", "missing", "gap_end"),
    [
        (BERLIN, wall(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1, 0)),
        (BERLIN, wall(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 0)),
        (BERLIN, wall(2026, 3, 29, 2, 59), utc(2026, 3, 29, 1, 0)),
        (NEW_YORK, wall(2026, 3, 8, 2, 15), utc(2026, 3, 8, 7, 0)),
        (LORD_HOWE, wall(2026, 10, 4, 2, 10), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_a_boundary_inside_the_gap_moves_to_the_end_of_the_gap(
    zone: ZoneInfo, missing: datetime, gap_end: datetime
) -> None:
    assert boundary_to_utc(missing, zone) == gap_end


def test_a_boundary_with_seconds_inside_the_gap_moves_exactly_to_the_end_of_the_gap() -> None:
    assert boundary_to_utc(wall(2026, 3, 29, 2, 30, 30), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_a_boundary_in_the_fold_resolves_to_its_first_occurrence() -> None:
    assert boundary_to_utc(wall(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_a_shift_spanning_the_gap_keeps_its_real_length() -> None:
    # 01:00 to 05:00 on the spring-forward night is three hours of real time.
    start = boundary_to_utc(wall(2026, 3, 29, 1, 0), BERLIN)
    end = boundary_to_utc(wall(2026, 3, 29, 5, 0), BERLIN)
    assert end - start == timedelta(hours=3)


def test_a_shift_spanning_the_fold_keeps_its_real_length() -> None:
    # 01:00 to 05:00 on the fall-back night is five hours of real time.
    start = boundary_to_utc(wall(2026, 10, 25, 1, 0), BERLIN)
    end = boundary_to_utc(wall(2026, 10, 25, 5, 0), BERLIN)
    assert end - start == timedelta(hours=5)


# aware datetimes


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        require_aware(wall(2026, 6, 1, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        to_utc(wall(2026, 6, 1, 9, 0))


def test_to_utc_keeps_the_instant_and_changes_only_the_zone() -> None:
    local = datetime(2026, 6, 1, 9, 0, tzinfo=KATHMANDU)
    assert to_utc(local) == utc(2026, 6, 1, 3, 15)
    assert to_utc(local).tzinfo is UTC


# Interval


def test_an_interval_refuses_naive_ends() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(wall(2026, 6, 1, 9, 0), utc(2026, 6, 1, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(utc(2026, 6, 1, 9, 0), wall(2026, 6, 1, 10, 0))


def test_an_interval_refuses_to_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Interval(utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 9, 0))


def test_an_interval_is_half_open_so_touching_intervals_do_not_overlap() -> None:
    assert not span(9, 10).overlaps(span(10, 11))
    assert not span(10, 11).overlaps(span(9, 10))
    assert span(9, 10).overlaps(span(9.5, 11))
    assert span(9.5, 11).overlaps(span(9, 10))


def test_an_interval_overlaps_one_it_contains_and_one_that_contains_it() -> None:
    assert span(9, 12).overlaps(span(10, 11))
    assert span(10, 11).overlaps(span(9, 12))
    assert span(9, 10).overlaps(span(9, 10))


def test_an_empty_interval_shares_time_with_nothing() -> None:
    # As Postgres's tstzrange: '[10:30,10:30)' is empty and && finds nothing.
    empty = span(10.5, 10.5)
    assert not empty.overlaps(span(10, 11))
    assert not span(10, 11).overlaps(empty)
    assert not empty.overlaps(empty)


def test_an_interval_contains_itself_and_its_inner_parts() -> None:
    assert span(9, 12).contains(span(9, 12))
    assert span(9, 12).contains(span(10, 11))
    assert not span(9, 12).contains(span(8, 10))
    assert not span(9, 12).contains(span(11, 13))


def test_intervals_compare_by_instant_across_zones() -> None:
    in_berlin = Interval(
        datetime(2026, 6, 1, 11, 0, tzinfo=BERLIN), datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN)
    )
    in_utc = span(9, 10)
    assert in_berlin.overlaps(in_utc)
    assert in_berlin.contains(in_utc)
    assert in_berlin.duration == timedelta(hours=1)


def test_an_interval_keeps_its_ends_in_utc() -> None:
    interval = Interval(
        datetime(2026, 6, 1, 9, 0, tzinfo=KATHMANDU), datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
    )
    assert interval.start == utc(2026, 6, 1, 3, 15)
    assert interval.end == utc(2026, 6, 1, 8, 0)
    assert interval.start.tzinfo is UTC
    assert interval.end.tzinfo is UTC


def test_an_interval_across_the_gap_given_in_local_time_lasts_its_real_time() -> None:
    # 01:30 CET to 03:30 CEST on the spring-forward night is one hour, not two.
    interval = Interval(
        datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)
    )
    assert interval.duration == timedelta(hours=1)


def test_an_interval_from_the_first_pass_of_the_fold_into_the_second_is_accepted() -> None:
    # 02:45 CEST comes before 02:15 CET although its wall clock reads later.
    interval = Interval(
        datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN),
        datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=BERLIN),
    )
    assert interval.duration == timedelta(minutes=30)
    assert interval.start == utc(2026, 10, 25, 0, 45)
    assert interval.end == utc(2026, 10, 25, 1, 15)


def test_an_interval_across_the_fold_lasts_its_real_time() -> None:
    interval = Interval(
        datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN),
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
    )
    assert interval.duration == timedelta(hours=1)


# merge


def test_merge_sorts_and_joins_overlapping_intervals() -> None:
    assert merge([span(11, 13), span(9, 10), span(12, 14)]) == [span(9, 10), span(11, 14)]


def test_merge_joins_intervals_that_only_touch() -> None:
    assert merge([span(10, 11), span(9, 10)]) == [span(9, 11)]


def test_merge_swallows_an_interval_inside_another() -> None:
    assert merge([span(9, 14), span(10, 11), span(12, 13)]) == [span(9, 14)]


def test_merge_drops_empty_intervals() -> None:
    assert merge([span(9, 9), span(10, 11), span(12, 12)]) == [span(10, 11)]
    assert merge([]) == []


def test_merge_orders_local_intervals_in_the_fold_by_instant() -> None:
    # By wall clock 02:10 (second pass) sorts before 02:40 (first pass); by instant it is
    # an hour later, so the two do not join.
    second_pass = Interval(
        datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=BERLIN),
        datetime(2026, 10, 25, 2, 20, fold=1, tzinfo=BERLIN),
    )
    first_pass = Interval(
        datetime(2026, 10, 25, 2, 40, tzinfo=BERLIN), datetime(2026, 10, 25, 2, 50, tzinfo=BERLIN)
    )
    assert merge([second_pass, first_pass]) == [first_pass, second_pass]
    assert IntervalSet([second_pass, first_pass]).overlaps(
        Interval(utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 1, 20))
    )


def test_merge_joins_intervals_given_in_different_zones() -> None:
    berlin = Interval(
        datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN), datetime(2026, 6, 1, 13, 0, tzinfo=BERLIN)
    )
    merged = merge([span(9, 10), berlin])
    assert len(merged) == 1
    assert merged[0].start == utc(2026, 6, 1, 9, 0)
    assert merged[0].end == utc(2026, 6, 1, 11, 0)


# IntervalSet


def test_an_interval_set_keeps_disjoint_sorted_members() -> None:
    members = IntervalSet([span(13, 14), span(9, 10), span(10, 11), span(12, 13.5)])
    assert list(members) == [span(9, 11), span(12, 14)]
    assert len(members) == 2


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (span(7, 8), False),  # before everything
        (span(8, 9), False),  # touches the first member's start
        (span(8, 9.25), True),  # reaches into the first member
        (span(9.5, 9.75), True),  # inside the first member
        (span(11, 12), False),  # exactly the hole between members
        (span(10.5, 12), False),  # starts where the first member ends
        (span(10, 12.25), True),  # reaches into the second member
        (span(8, 15), True),  # covers everything
        (span(14, 15), False),  # starts where the last member ends
        (span(16, 17), False),  # after everything
    ],
)
def test_an_interval_set_finds_overlaps_by_half_open_rules(probe: Interval, expected: bool) -> None:
    members = IntervalSet([span(9, 10.5), span(12, 14)])
    assert members.overlaps(probe) is expected
    assert members.overlaps(probe) is any(m.overlaps(probe) for m in members)


def test_an_empty_span_overlaps_no_member_of_a_set() -> None:
    members = IntervalSet([span(9, 11)])
    assert not members.overlaps(span(10, 10))


def test_an_empty_interval_set_overlaps_and_covers_nothing() -> None:
    nothing = IntervalSet()
    assert not nothing.overlaps(span(9, 10))
    assert not nothing.covers(span(9, 10))
    assert len(nothing) == 0


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (span(9, 10.5), True),  # exactly one member
        (span(9.5, 10), True),  # inside one member
        (span(8.5, 10), False),  # starts before the member
        (span(10, 12.5), False),  # bridges the hole between members
        (span(12, 16), True),  # members that touched were joined
        (span(15, 17), False),  # runs past the end
        (span(17, 18), False),  # outside everything
    ],
)
def test_an_interval_set_covers_only_spans_inside_one_joined_member(
    probe: Interval, expected: bool
) -> None:
    members = IntervalSet([span(9, 10.5), span(12, 14), span(14, 16)])
    assert members.covers(probe) is expected


def test_a_shift_to_midnight_and_one_from_midnight_cover_a_span_across_midnight() -> None:
    late = Interval(
        datetime(2026, 6, 1, 18, 0, tzinfo=BERLIN), datetime(2026, 6, 2, 0, 0, tzinfo=BERLIN)
    )
    early = Interval(
        datetime(2026, 6, 2, 0, 0, tzinfo=BERLIN), datetime(2026, 6, 2, 6, 0, tzinfo=BERLIN)
    )
    across = Interval(
        datetime(2026, 6, 1, 23, 0, tzinfo=BERLIN), datetime(2026, 6, 2, 1, 0, tzinfo=BERLIN)
    )
    assert IntervalSet([late, early]).covers(across)
    assert not IntervalSet([late]).covers(across)


def test_an_interval_set_accepts_members_in_any_fixed_offset() -> None:
    plus_two = timezone(timedelta(hours=2))
    members = IntervalSet(
        [
            Interval(
                datetime(2026, 6, 1, 11, 0, tzinfo=plus_two),
                datetime(2026, 6, 1, 12, 0, tzinfo=plus_two),
            )
        ]
    )
    assert members.overlaps(span(9.5, 9.75))
    assert members.covers(span(9, 10))
