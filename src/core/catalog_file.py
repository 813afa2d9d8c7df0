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
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
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

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


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
    if isinstance(value, int):
        return timedelta(minutes=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            days, hours, minutes = (int(g or 0) for g in match.groups())
            return timedelta(days=days, hours=hours, minutes=minutes)
    raise ValueError("expected a duration like 45m, 1h30m, 2h or 30d")


def _format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes}m"


def _parse_clock(value: object) -> str:
    """Validate ``HH:MM`` (``24:00`` allowed as an end); kept as text, resolved later."""
    if not isinstance(value, str):
        raise ValueError("expected a time of day as 'HH:MM' in quotes")
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError("expected a time of day as 'HH:MM'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
        raise ValueError("not a time of day (00:00 to 24:00)")
    return f"{hour:02d}:{minute:02d}"


Duration = Annotated[
    timedelta, BeforeValidator(_parse_duration), PlainSerializer(_format_duration, return_type=str)
]
Clock = Annotated[str, BeforeValidator(_parse_clock)]


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


class SalonDoc(_Strict):
    name: str = Field(min_length=1)
    timezone: str
    languages: list[str] = Field(min_length=1)
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
        for code in value:
            try:
                Locale.parse(code)
            except (UnknownLocaleError, ValueError):
                raise ValueError(f"{code!r} is not a known language code") from None
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in list_currencies():
            raise ValueError("not an ISO 4217 currency code (for example EUR)")
        return value


class PoliciesDoc(_Strict):
    min_notice: Duration = timedelta(hours=1)
    booking_horizon: Duration = timedelta(days=60)
    slot_step: Duration = timedelta(minutes=15)
    hold_ttl: Duration = timedelta(minutes=10)
    customer_cancel_cutoff: Duration = timedelta(hours=12)
    customer_reschedule_cutoff: Duration = timedelta(hours=12)

    @field_validator("slot_step", "hold_ttl", "booking_horizon")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value


class CategoryDoc(_Strict):
    id: Key
    name: dict[str, str]


class ServiceDoc(_Strict):
    id: Key
    name: dict[str, str]
    category: str | None = None
    duration: Duration
    price: Decimal = Field(ge=0)
    buffer_before: Duration = timedelta(0)
    buffer_after: Duration = timedelta(0)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value


class PeriodDoc(_Strict):
    start: Clock = Field(alias="from")
    end: Clock = Field(alias="to")
    breaks: list[str] = []

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _parse_period(value: object) -> object:
    if isinstance(value, str) and "-" in value:
        start, _, end = value.partition("-")
        return {"from": start.strip(), "to": end.strip()}
    return value


Period = Annotated[PeriodDoc, BeforeValidator(_parse_period)]


class StaffServiceDoc(_Strict):
    id: str
    duration: Duration | None = None


def _parse_staff_service(value: object) -> object:
    return {"id": value} if isinstance(value, str) else value


class ExceptionDoc(_Strict):
    date: date
    day_off: bool = False
    hours: list[Period] = []
    note: str = ""


class StaffDoc(_Strict):
    id: Key
    name: str = Field(min_length=1)
    services: list[Annotated[StaffServiceDoc, BeforeValidator(_parse_staff_service)]]
    hours: dict[str, list[Period]]
    exceptions: list[ExceptionDoc] = []

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[PeriodDoc]]) -> dict[str, list[PeriodDoc]]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}")
        return value


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
            if offered.duration is not None and offered.duration <= timedelta(0):
                problems.append(f"{where}.duration: must be longer than zero")
        for day, periods in member.hours.items():
            problems += _check_periods(f"staff[{i}].hours.{day}", periods)
        dates: set[date] = set()
        for j, exception in enumerate(member.exceptions):
            where = f"staff[{i}].exceptions[{j}]"
            if exception.date in dates:
                problems.append(f"{where}.date: '{exception.date}': listed twice")
            dates.add(exception.date)
            if exception.day_off == bool(exception.hours):
                problems.append(
                    f"{where}: give either 'day_off: true' or 'hours', not both or neither"
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
    problems = [
        f"{where}: missing the {language!r} name"
        for language in languages
        if not names.get(language)
    ]
    problems += [
        f"{where}.{language}: {language!r} is not one of the salon's languages"
        for language in names
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
    spans: list[tuple[int, int]] = []
    for k, period in enumerate(periods):
        here = f"{where}[{k}]"
        if _minutes(period.start) == 24 * 60:
            problems.append(f"{here}.from: '24:00': a period cannot start at 24:00")
            continue
        begin, finish = _span(period.start, period.end)
        spans.append((begin, finish))
        for b, text in enumerate(period.breaks):
            start, sep, end = text.partition("-")
            try:
                if not sep:
                    raise ValueError("expected 'HH:MM-HH:MM'")
                b_start, b_end = (
                    _minutes(_parse_clock(start.strip())),
                    _minutes(_parse_clock(end.strip())),
                )
            except ValueError as error:
                problems.append(f"{here}.breaks[{b}]: {text!r}: {error}")
                continue
            # A break in a period past midnight may be written in tomorrow's clock.
            if b_start < begin:
                b_start += 24 * 60
            while b_end <= b_start:
                b_end += 24 * 60
            if not (begin <= b_start and b_end <= finish):
                problems.append(
                    f"{here}.breaks[{b}]: {text!r}: outside working hours "
                    f"{period.start}-{period.end}"
                )
    spans.sort()
    for (_, first_end), (second_start, _) in pairwise(spans):
        if second_start < first_end:
            problems.append(f"{where}: periods overlap")
    return problems


def _period(doc: PeriodDoc) -> WorkPeriod:
    breaks = []
    for text in doc.breaks:
        start, _, end = text.partition("-")
        breaks.append((_to_time(_parse_clock(start.strip())), _to_time(_parse_clock(end.strip()))))
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
    return Catalog(salon=salon, services=services, staff=staff)


def _describe(error: Mapping[str, Any]) -> str:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith(("function-", "json-or-python")):
            path += f".{part}" if path else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{path}: missing"
    return f"{path}: {error['input']!r}: {message}"


def parse_document(data: object) -> CatalogDocument:
    """Validate a decoded document; raise ``CatalogError`` with every problem found."""
    if not isinstance(data, dict):
        raise CatalogError(["(top level): expected a mapping with salon, services and staff"])
    try:
        document = CatalogDocument.model_validate(data)
    except ValidationError as error:
        raise CatalogError([_describe(e) for e in error.errors()]) from None
    document.to_catalog()
    return document


def load_catalog_text(text: str) -> tuple[CatalogDocument, Catalog]:
    """Parse YAML text into its validated document and domain catalog."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError([f"(file): not valid YAML: {error}"]) from None
    document = parse_document(data)
    return document, document.to_catalog()


def catalog_from_canonical(data: Mapping[str, Any]) -> Catalog:
    """Rebuild the catalog from its stored canonical form."""
    return parse_document(dict(data)).to_catalog()
