"""The catalog file: the owner's YAML, validated into a ``core.domain.catalog.Catalog``.

Every problem is reported as ``path: value: reason`` (``staff[1].hours.mon[0].to: '25:00':
not a time of day``), all problems at once, before anything is applied. The validated
document is also what the database stores (``CatalogDocument.canonical``), so the catalog is
read back through the very same checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from core.catalog_problems import describe, describe_yaml, show
from core.catalog_yaml import read_yaml
from core.domain.catalog import (
    Catalog,
    Category,
    DayException,
    Policies,
    Salon,
    Service,
    Staff,
    WorkPeriod,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class CatalogError(Exception):
    """The catalog file is invalid; ``problems`` lists every ``path: value: reason``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid catalog:\n  " + "\n  ".join(problems))
        self.problems = tuple(problems)


def _parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 45m, 1h30m, 2h or 30d")
    # A duration too long for timedelta (or int()) is longer than every field's upper
    # bound, so it becomes the extreme value and that bound names the problem.
    if isinstance(value, int):
        try:
            return timedelta(minutes=value)
        except OverflowError:
            return timedelta.max if value > 0 else timedelta.min
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            try:
                days, hours, minutes = (int(g or 0) for g in match.groups())
                return timedelta(days=days, hours=hours, minutes=minutes)
            except (OverflowError, ValueError):
                return timedelta.max
    raise ValueError("expected a duration like 45m, 1h30m, 2h or 30d")


def _format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes}m"


def _parse_date(value: object) -> object:
    """A ``YYYY-MM-DD`` text naming no calendar day is "not a date"; other input is pydantic's."""
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not a date") from None
    return value


def _parse_clock(value: object) -> str:
    """Validate ``HH:MM`` (``24:00`` allowed as an end); kept as text, resolved later."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100 * 60:
        # YAML 1.1 reads an unquoted 10:00 as the sexagesimal number 600.
        written = f"{value // 60}:{value % 60:02d}"
        raise ValueError(
            f"write the time in quotes ('{written}'); unquoted, YAML reads it as a number"
        )
    if not isinstance(value, str):
        raise ValueError("expected a time of day as 'HH:MM' in quotes")
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError("expected a time of day as 'HH:MM'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
        raise ValueError("not a time of day (00:00 to 24:00)")
    return f"{hour:02d}:{minute:02d}"


def _parse_break(value: object) -> str:
    """Validate ``HH:MM-HH:MM``; kept as normalized text."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError("expected a break as 'HH:MM-HH:MM'")
    start, _, end = value.partition("-")
    return f"{_parse_clock(start.strip())}-{_parse_clock(end.strip())}"


def _format_price(value: Decimal) -> str:
    # 55, 55.0 and 55.00 are one price, so they must give one canonical document.
    return format(value.normalize(), "f")


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be negative")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def _at_most(limit: timedelta, written: str) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if value > limit:
            raise ValueError(f"must be at most {written}")
        return value

    return AfterValidator(check)


Duration = Annotated[
    timedelta, BeforeValidator(_parse_duration), PlainSerializer(_format_duration, return_type=str)
]
NonNegativeDuration = Annotated[Duration, AfterValidator(_non_negative)]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
# Every duration field has an upper bound: availability does date arithmetic with them, and
# an absurd value would overflow there instead of being named here.
_DAY = _at_most(timedelta(hours=24), "24h")
_YEAR = _at_most(timedelta(days=365), "365d")
_THREE_YEARS = _at_most(timedelta(days=1096), "1096d (3 years)")
VisitDuration = Annotated[PositiveDuration, _DAY]  # a visit, the slot step, a hold
Buffer = Annotated[NonNegativeDuration, _DAY]
Notice = Annotated[NonNegativeDuration, _YEAR]  # the notice and cutoffs before a visit
Horizon = Annotated[PositiveDuration, _THREE_YEARS]
Clock = Annotated[str, BeforeValidator(_parse_clock)]
Break = Annotated[str, BeforeValidator(_parse_break)]
# bookings.price is NUMERIC(12, 2)
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    PlainSerializer(_format_price, return_type=str),
]


def _to_time(clock: str) -> time:
    hour, minute = (int(part) for part in clock.split(":"))
    return time(0, 0) if hour == 24 else time(hour, minute)


def _minutes(clock: str) -> int:
    hour, minute = (int(part) for part in clock.split(":"))
    return hour * 60 + minute


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_key(value: object) -> str:
    if not isinstance(value, str) or not _KEY.match(value.strip()):
        raise ValueError("expected an id of lowercase letters, digits, '-' or '_' (max 40)")
    return value.strip()


Key = Annotated[str, BeforeValidator(_check_key)]


def _check_language(value: object) -> object:
    if isinstance(value, str):
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError("not a known language code (for example en, ru, de)") from None
    return value


def _check_weekday(value: object) -> object:
    if value not in WEEKDAYS:
        raise ValueError(f"not a weekday; use {', '.join(WEEKDAYS)}")
    return value


Language = Annotated[str, AfterValidator(_check_language)]
Weekday = Annotated[str, BeforeValidator(_check_weekday)]


class SalonDoc(_Strict):
    name: str = Field(min_length=1)
    timezone: str
    languages: list[Language] = Field(min_length=1)
    currency: str
    address: str = ""
    phone: str = ""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("not an IANA time zone (for example Europe/Berlin)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone (for example Europe/Berlin)") from None
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        twice = sorted({code for code in value if value.count(code) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed twice")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in list_currencies():
            raise ValueError("not an ISO 4217 currency code (for example EUR)")
        return value


class PoliciesDoc(_Strict):
    min_notice: Notice = timedelta(hours=1)
    booking_horizon: Horizon = timedelta(days=60)
    slot_step: VisitDuration = timedelta(minutes=15)
    hold_ttl: VisitDuration = timedelta(minutes=10)
    customer_cancel_cutoff: Notice = timedelta(hours=12)
    customer_reschedule_cutoff: Notice = timedelta(hours=12)


class CategoryDoc(_Strict):
    id: Key
    name: dict[str, str]


class ServiceDoc(_Strict):
    id: Key
    name: dict[str, str]
    category: str | None = None
    duration: VisitDuration
    price: Price
    # A negative buffer would make the blocked span shorter than the visit itself.
    buffer_before: Buffer = timedelta(0)
    buffer_after: Buffer = timedelta(0)


class PeriodDoc(_Strict):
    start: Clock = Field(alias="from")
    end: Clock = Field(alias="to")
    breaks: list[Break] = []

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def text(self) -> str:
        return f"{self.start}-{self.end}"


def _parse_period(value: object) -> object:
    if isinstance(value, str) and value.count("-") == 1:
        start, _, end = value.partition("-")
        return {"from": start.strip(), "to": end.strip()}
    if isinstance(value, dict | PeriodDoc):
        return value
    raise ValueError("expected a period as 'HH:MM-HH:MM' or {from: 'HH:MM', to: 'HH:MM'}")


Period = Annotated[PeriodDoc, BeforeValidator(_parse_period)]


class StaffServiceDoc(_Strict):
    id: str
    duration: VisitDuration | None = None


def _parse_staff_service(value: object) -> object:
    return {"id": value} if isinstance(value, str) else value


class ExceptionDoc(_Strict):
    date: Annotated[date, BeforeValidator(_parse_date)]
    day_off: bool = False
    hours: list[Period] = []
    note: str = ""


class StaffDoc(_Strict):
    id: Key
    name: str = Field(min_length=1)
    services: list[Annotated[StaffServiceDoc, BeforeValidator(_parse_staff_service)]]
    hours: dict[Weekday, list[Period]]
    exceptions: list[ExceptionDoc] = []


class CatalogDocument(_Strict):
    """The whole file. ``to_catalog`` also runs the checks that span sections."""

    salon: SalonDoc
    policies: PoliciesDoc = PoliciesDoc()
    categories: list[CategoryDoc] = []
    services: list[ServiceDoc] = Field(min_length=1)
    staff: list[StaffDoc] = Field(min_length=1)

    def canonical(self) -> dict[str, Any]:
        """The normalized JSON form: equal catalogs give equal documents."""
        return self.model_dump(mode="json", by_alias=True)

    def to_catalog(self) -> Catalog:
        problems = _cross_check(self)
        if problems:
            raise CatalogError(problems)
        return _build(self)


def _cross_check(doc: CatalogDocument) -> list[str]:
    problems: list[str] = []
    languages = doc.salon.languages
    category_ids = [c.id for c in doc.categories]
    service_ids = [s.id for s in doc.services]
    problems += _duplicates("categories", category_ids)
    problems += _duplicates("services", service_ids)
    problems += _duplicates("staff", [m.id for m in doc.staff])
    for i, category in enumerate(doc.categories):
        problems += _names(f"categories[{i}].name", category.name, languages)
    for i, service in enumerate(doc.services):
        problems += _names(f"services[{i}].name", service.name, languages)
        if service.category is not None and service.category not in category_ids:
            problems.append(
                f"services[{i}].category: {service.category!r}: no such category in 'categories'"
            )
    for i, member in enumerate(doc.staff):
        seen: set[str] = set()
        for j, offered in enumerate(member.services):
            where = f"staff[{i}].services[{j}]"
            if offered.id not in service_ids:
                problems.append(f"{where}: {offered.id!r}: no such service in 'services'")
            if offered.id in seen:
                problems.append(f"{where}: {offered.id!r}: listed twice")
            seen.add(offered.id)
        for day, periods in member.hours.items():
            problems += _check_periods(f"staff[{i}].hours.{day}", periods)
        problems += _check_overnight(f"staff[{i}]", member)
        dates: set[date] = set()
        for j, exception in enumerate(member.exceptions):
            where = f"staff[{i}].exceptions[{j}]"
            if exception.date in dates:
                problems.append(f"{where}.date: '{exception.date}': listed twice")
            dates.add(exception.date)
            if exception.day_off and exception.hours:
                hours = [period.text() for period in exception.hours]
                problems.append(
                    f"{where}.hours: {show(hours)}: a day off has no hours; "
                    "give either 'day_off: true' or 'hours', not both"
                )
            elif not exception.day_off and not exception.hours:
                problems.append(
                    f"{where}: '{exception.date}': give either 'day_off: true' or 'hours'"
                )
            problems += _check_periods(f"{where}.hours", exception.hours)
    return problems


def _duplicates(section: str, ids: list[str]) -> list[str]:
    return [
        f"{section}[{i}].id: {value!r}: used more than once"
        for i, value in enumerate(ids)
        if ids.index(value) != i
    ]


def _names(where: str, names: Mapping[str, str], languages: list[str]) -> list[str]:
    spoken = ", ".join(languages)
    problems = [
        f"{where}.{language}: missing: needed for each of the salon's languages ({spoken})"
        for language in languages
        if not names.get(language)
    ]
    problems += [
        f"{where}.{language}: {show(text)}: {language!r} is not one of the salon's "
        f"languages ({spoken})"
        for language, text in names.items()
        if language not in languages
    ]
    return problems


def _span(start: str, end: str) -> tuple[int, int]:
    """Minutes from the period's local midnight; an end at or before the start is tomorrow."""
    begin, finish = _minutes(start), _minutes(end)
    if finish <= begin:
        finish += 24 * 60
    return begin, finish


def _check_periods(where: str, periods: Sequence[PeriodDoc]) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for k, period in enumerate(periods):
        here = f"{where}[{k}]"
        if _minutes(period.start) == 24 * 60:
            problems.append(f"{here}.from: '24:00': a period cannot start at 24:00")
            continue
        begin, finish = _span(period.start, period.end)
        spans.append((begin, finish, k))
        for b, text in enumerate(period.breaks):
            start, _, end = text.partition("-")
            b_start, b_end = _minutes(start), _minutes(end)
            # A break in a period past midnight may be written in tomorrow's clock.
            if b_start < begin:
                b_start += 24 * 60
            if b_end <= b_start:
                b_end += 24 * 60
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
    if _minutes(period.start) == 24 * 60:
        return []  # refused on its own by _check_periods
    spill = _span(period.start, period.end)[1] - 24 * 60
    return [later for later in next_day if _minutes(later.start) < spill]


def _check_overnight(where: str, member: StaffDoc) -> list[str]:
    """A period past midnight must end before the next date's periods start.

    A date's periods are its exception's if it has one, else its weekday's (the rule of
    ``Staff.periods_on``). So weekly hours are checked against the next weekday, an
    exception against the next date, and the weekly hours of the day before an exception
    (when that day has no exception of its own) against the exception.
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


def _period(doc: PeriodDoc) -> WorkPeriod:
    breaks = []
    for text in doc.breaks:
        start, _, end = text.partition("-")
        breaks.append((_to_time(start), _to_time(end)))
    return WorkPeriod(_to_time(doc.start), _to_time(doc.end), tuple(breaks))


def _build(doc: CatalogDocument) -> Catalog:
    policies = Policies(**{name: getattr(doc.policies, name) for name in PoliciesDoc.model_fields})
    salon = Salon(
        name=doc.salon.name,
        zone=ZoneInfo(doc.salon.timezone),
        languages=tuple(doc.salon.languages),
        currency=doc.salon.currency,
        policies=policies,
        address=doc.salon.address,
        phone=doc.salon.phone,
    )
    services = {
        s.id: Service(
            key=s.id,
            names=dict(s.name),
            duration=s.duration,
            price=s.price,
            category=s.category,
            buffer_before=s.buffer_before,
            buffer_after=s.buffer_after,
        )
        for s in doc.services
    }
    staff = {
        m.id: Staff(
            key=m.id,
            name=m.name,
            services={s.id: s.duration for s in m.services},
            weekly={
                WEEKDAYS.index(day) + 1: tuple(_period(p) for p in periods)
                for day, periods in m.hours.items()
            },
            exceptions={
                e.date: DayException(e.date, tuple(_period(p) for p in e.hours), e.note)
                for e in m.exceptions
            },
        )
        for m in doc.staff
    }
    categories = {c.id: Category(key=c.id, names=dict(c.name)) for c in doc.categories}
    return Catalog(salon=salon, services=services, staff=staff, categories=categories)


def parse_document(data: object) -> CatalogDocument:
    """Validate a decoded document; raise ``CatalogError`` with every problem found."""
    if not isinstance(data, dict):
        shown = "empty file" if data is None else show(data)
        raise CatalogError(
            [f"(top level): {shown}: expected a mapping with salon, services and staff"]
        )
    try:
        document = CatalogDocument.model_validate(data)
    except ValidationError as error:
        raise CatalogError([describe(e, CatalogDocument) for e in error.errors()]) from None
    document.to_catalog()
    return document


def load_catalog_text(text: str) -> tuple[CatalogDocument, Catalog]:
    """Parse YAML text into its validated document and domain catalog."""
    try:
        data = read_yaml(text)
    except yaml.YAMLError as error:
        raise CatalogError([describe_yaml(error)]) from None
    document = parse_document(data)
    return document, document.to_catalog()


def catalog_from_canonical(data: Mapping[str, Any]) -> Catalog:
    """Rebuild the catalog from its stored canonical form."""
    return parse_document(dict(data)).to_catalog()
