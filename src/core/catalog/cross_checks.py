"""The checks that span sections: ids unique and known, names in every language, periods
that neither overlap nor run past midnight into the next date's hours.

Each returns every problem it finds as ``path: value: reason``; all are linear in the size
of the catalog (sets, not list scans), so a catalog at its limits is checked at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from core.catalog.problems import clip, show
from core.catalog.sections import CategoryDoc, PeriodDoc, SalonDoc, ServiceDoc, StaffDoc
from core.catalog.values import WEEKDAYS, minutes_of

_DAY_MINUTES = 24 * 60


def cross_check(
    salon: SalonDoc,
    categories: Sequence[CategoryDoc],
    services: Sequence[ServiceDoc],
    staff: Sequence[StaffDoc],
) -> list[str]:
    """Every problem across the sections of a catalog whose fields are each valid."""
    problems: list[str] = []
    languages = salon.languages
    category_ids = {c.id for c in categories}
    service_ids = {s.id for s in services}
    problems += _duplicates("categories", [c.id for c in categories])
    problems += _duplicates("services", [s.id for s in services])
    problems += _duplicates("staff", [m.id for m in staff])
    for i, category in enumerate(categories):
        problems += _names(f"categories[{i}].name", category.name, languages)
    for i, service in enumerate(services):
        problems += _names(f"services[{i}].name", service.name, languages)
        if service.category is not None and service.category not in category_ids:
            problems.append(
                f"services[{i}].category: {show(service.category)}: "
                "no such category in 'categories'"
            )
    for i, member in enumerate(staff):
        problems += _check_member(f"staff[{i}]", member, service_ids)
    return problems


def _check_member(where: str, member: StaffDoc, service_ids: set[str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for j, offered in enumerate(member.services):
        here = f"{where}.services[{j}]"
        if offered.id not in service_ids:
            problems.append(f"{here}: {show(offered.id)}: no such service in 'services'")
        if offered.id in seen:
            problems.append(f"{here}: {show(offered.id)}: listed twice")
        seen.add(offered.id)
    for day, periods in member.hours.items():
        problems += _check_periods(f"{where}.hours.{day}", periods)
    problems += _check_overnight(where, member)
    dates: set[date] = set()
    for j, exception in enumerate(member.exceptions):
        here = f"{where}.exceptions[{j}]"
        if exception.date in dates:
            problems.append(f"{here}.date: '{exception.date}': listed twice")
        dates.add(exception.date)
        if exception.day_off and exception.hours:
            hours = [period.text() for period in exception.hours]
            problems.append(
                f"{here}.hours: {show(hours)}: a day off has no hours; "
                "give either 'day_off: true' or 'hours', not both"
            )
        elif not exception.day_off and not exception.hours:
            problems.append(f"{here}: '{exception.date}': give either 'day_off: true' or 'hours'")
        problems += _check_periods(f"{here}.hours", exception.hours)
    return problems


def _duplicates(section: str, ids: list[str]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for i, value in enumerate(ids):
        if first.setdefault(value, i) != i:
            problems.append(f"{section}[{i}].id: {show(value)}: used more than once")
    return problems


def _names(where: str, names: Mapping[str, str], languages: list[str]) -> list[str]:
    spoken = ", ".join(languages)
    problems = [
        f"{where}.{language}: missing: needed for each of the salon's languages ({spoken})"
        for language in languages
        if not names.get(language)
    ]
    problems += [
        f"{where}.{clip(language, 40)}: {show(text)}: {show(language)} is not one of the salon's "
        f"languages ({spoken})"
        for language, text in names.items()
        if language not in languages
    ]
    return problems


def _span(start: str, end: str) -> tuple[int, int]:
    """Minutes from the period's local midnight; an end at or before the start is tomorrow."""
    begin, finish = minutes_of(start), minutes_of(end)
    if finish <= begin:
        finish += _DAY_MINUTES
    return begin, finish


def _check_periods(where: str, periods: Sequence[PeriodDoc]) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for k, period in enumerate(periods):
        here = f"{where}[{k}]"
        if minutes_of(period.start) == _DAY_MINUTES:
            problems.append(f"{here}.from: '24:00': a period cannot start at 24:00")
            continue
        begin, finish = _span(period.start, period.end)
        spans.append((begin, finish, k))
        for b, text in enumerate(period.breaks):
            start, _, end = text.partition("-")
            b_start, b_end = minutes_of(start), minutes_of(end)
            # A break in a period past midnight may be written in tomorrow's clock.
            if b_start < begin:
                b_start += _DAY_MINUTES
            if b_end <= b_start:
                b_end += _DAY_MINUTES
            if start == end:
                problems.append(f"{here}.breaks[{b}]: {text!r}: a break cannot be empty")
            elif not (begin <= b_start and b_end <= finish):
                problems.append(
                    f"{here}.breaks[{b}]: {text!r}: outside the working hours {period.text()}"
                )
    spans.sort()
    latest: tuple[int, int, int] | None = None  # the period reaching furthest so far
    for span in spans:
        if latest is not None and span[0] < latest[1]:
            problems.append(
                f"{where}[{span[2]}]: {periods[span[2]].text()!r}: overlaps "
                f"{periods[latest[2]].text()!r}"
            )
        if latest is None or span[1] > latest[1]:
            latest = span
    return problems


def _runs_into(period: PeriodDoc, next_day: Sequence[PeriodDoc]) -> list[PeriodDoc]:
    """The periods of the next date that start before ``period`` has ended past midnight."""
    if minutes_of(period.start) == _DAY_MINUTES:
        return []  # refused on its own by _check_periods
    spill = _span(period.start, period.end)[1] - _DAY_MINUTES
    return [later for later in next_day if minutes_of(later.start) < spill]


def _check_overnight(where: str, member: StaffDoc) -> list[str]:
    """A period past midnight must end before the next date's periods start.

    A date's periods are its exception's if it has one, else its weekday's (the rule of
    ``Staff.periods_on``). So weekly hours are checked against the next weekday, an
    exception against the next date, and the weekly hours of the day before an exception
    (when that day has no exception of its own) against the exception. Exception dates are
    bounded (``values.ExceptionDate``), so the day before and after are always dates.
    """
    problems: list[str] = []
    weekly = member.hours
    dated = {exception.date: exception for exception in member.exceptions}
    for index, day in enumerate(WEEKDAYS):
        tomorrow = WEEKDAYS[(index + 1) % 7]
        for k, period in enumerate(weekly.get(day, ())):
            problems += [
                f"{where}.hours.{day}[{k}]: {period.text()!r}: runs into {tomorrow}'s "
                f"{later.text()!r}"
                for later in _runs_into(period, weekly.get(tomorrow, ()))
            ]
    for j, exception in enumerate(member.exceptions):
        following = exception.date + timedelta(days=1)
        tomorrow = WEEKDAYS[following.weekday()]
        for k, period in enumerate(exception.hours):
            here = f"{where}.exceptions[{j}].hours[{k}]: {period.text()!r}: runs into"
            if following in dated:
                problems += [
                    f"{here} the {following} exception's {later.text()!r}"
                    for later in _runs_into(period, dated[following].hours)
                ]
            else:
                problems += [
                    f"{here} {tomorrow}'s {later.text()!r} on {following}"
                    for later in _runs_into(period, weekly.get(tomorrow, ()))
                ]
        before = exception.date - timedelta(days=1)
        if before in dated:
            continue  # that exception's own hours are checked against this one above
        yesterday = WEEKDAYS[before.weekday()]
        for k, period in enumerate(weekly.get(yesterday, ())):
            problems += [
                f"{where}.hours.{yesterday}[{k}]: {period.text()!r}: runs into the "
                f"{exception.date} exception's {later.text()!r}"
                for later in _runs_into(period, exception.hours)
            ]
    return problems
