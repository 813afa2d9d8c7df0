"""Instants and intervals on the absolute (UTC) timeline, and local wall-clock resolution.

Every datetime that crosses a module boundary is timezone-aware. Local wall-clock times are
only turned into instants here, with one rule for the two DST edge cases:

* a local time that does not exist (the spring-forward gap) has no instant: ``None``;
* a local time that happens twice (the autumn fold) resolves to its first occurrence
  (``fold=0``), so the same local time always gives the same instant.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Return ``moment`` unchanged, or raise ``ValueError`` if it carries no offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def to_utc(moment: datetime) -> datetime:
    """The same instant expressed in UTC; naive input is refused."""
    return require_aware(moment).astimezone(UTC)


def local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """Resolve a naive local wall-clock time in ``zone`` to a UTC instant.

    Returns ``None`` when the wall time does not exist (DST gap). Ambiguous wall times
    (DST fold) resolve to the first occurrence.
    """
    if wall.tzinfo is not None:
        raise ValueError("local_to_utc takes a naive wall-clock time")
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def boundary_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Resolve a working-hours boundary, which must always land somewhere.

    A boundary inside a DST gap moves to the end of the gap (09:30 that does not exist
    becomes the first instant that does), so a shift that spans the gap keeps its real
    length and one that starts inside it simply starts when the clock resumes.
    """
    exact = local_to_utc(wall, zone)
    if exact is not None:
        return exact
    # Transitions fall on whole minutes, so the first whole minute that exists after the
    # gap is the transition itself; starting from a time with seconds would overshoot it.
    probe = wall.replace(second=0, microsecond=0)
    while local_to_utc(probe, zone) is None:
        probe += timedelta(minutes=1)
    found = local_to_utc(probe, zone)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open span ``[start, end)`` of absolute time; both ends are aware, kept in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        # Python compares and subtracts two datetimes of one zone by their wall clocks, so
        # ends kept in a local zone would misorder and mismeasure across a DST change.
        # (The identity checks are the fast path: most instants here are already UTC.)
        if self.start.tzinfo is not UTC:
            start = require_aware(self.start, "Interval.start").astimezone(UTC)
            object.__setattr__(self, "start", start)
        if self.end.tzinfo is not UTC:
            object.__setattr__(self, "end", require_aware(self.end, "Interval.end").astimezone(UTC))
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} > {self.end}")

    def overlaps(self, other: Interval) -> bool:
        """True when both share some time; an empty interval shares none, as in Postgres."""
        return (
            self.start < other.end
            and other.start < self.end
            and self.start < self.end
            and other.start < other.end
        )

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _bounds(interval: Interval) -> tuple[datetime, datetime]:
    return interval.start, interval.end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals."""
    merged: list[Interval] = []
    for current in sorted(intervals, key=_bounds):
        if current.start == current.end:
            continue
        if merged and current.start <= merged[-1].end:
            if current.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, current.end)
        else:
            merged.append(current)
    return merged


class IntervalSet:
    """An immutable set of disjoint intervals with logarithmic lookups."""

    __slots__ = ("_ends", "_intervals", "_starts")

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._intervals: Sequence[Interval] = merge(intervals)
        self._starts = [i.start for i in self._intervals]
        self._ends = [i.end for i in self._intervals]

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._intervals)

    def __len__(self) -> int:
        return len(self._intervals)

    def overlaps(self, span: Interval) -> bool:
        """True when any member shares time with ``span``; an empty span shares none."""
        return self.overlaps_between(span.start, span.end)

    def covers(self, span: Interval) -> bool:
        """True when one member contains all of ``span``."""
        return self.covers_between(span.start, span.end)

    def overlaps_between(self, start: datetime, end: datetime) -> bool:
        """``overlaps`` for a span given by its UTC ends (no Interval built: hot loops)."""
        if end <= start:
            return False
        index = bisect.bisect_right(self._ends, start)
        return index < len(self._starts) and self._starts[index] < end

    def covers_between(self, start: datetime, end: datetime) -> bool:
        """``covers`` for a span given by its UTC ends."""
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and end <= self._ends[index]
