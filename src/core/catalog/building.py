"""A valid catalog document turned into the domain's ``Catalog``."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from core.catalog.reminder_sections import FollowUpDoc, RemindersDoc
from core.catalog.sections import (
    CategoryDoc,
    PeriodDoc,
    PoliciesDoc,
    SalonDoc,
    ServiceDoc,
    StaffDoc,
)
from core.catalog.values import WEEKDAYS, time_of
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
from core.domain.reminders import ReminderPolicy


def build_catalog(
    salon: SalonDoc,
    policies: PoliciesDoc,
    categories: Sequence[CategoryDoc],
    services: Sequence[ServiceDoc],
    staff: Sequence[StaffDoc],
    *,
    reminders: RemindersDoc | None = None,
    follow_up: FollowUpDoc | None = None,
    staff_agenda_at: str | None = None,
) -> Catalog:
    """The domain catalog of sections that passed every check (``cross_check`` included)."""
    return Catalog(
        salon=Salon(
            name=salon.name,
            zone=ZoneInfo(salon.timezone),
            languages=tuple(salon.languages),
            currency=salon.currency,
            policies=Policies(
                **{name: getattr(policies, name) for name in PoliciesDoc.model_fields}
            ),
            address=salon.address,
            phone=salon.phone,
        ),
        services={s.id: _service(s) for s in services},
        staff={m.id: _member(m) for m in staff},
        categories={c.id: Category(key=c.id, names=dict(c.name)) for c in categories},
        reminders=reminders.policy() if reminders is not None else ReminderPolicy(),
        follow_up=follow_up.follow_up() if follow_up is not None else None,
        staff_agenda_at=time_of(staff_agenda_at) if staff_agenda_at is not None else None,
    )


def _service(doc: ServiceDoc) -> Service:
    return Service(
        key=doc.id,
        names=dict(doc.name),
        duration=doc.duration,
        price=doc.price,
        category=doc.category,
        buffer_before=doc.buffer_before,
        buffer_after=doc.buffer_after,
    )


def _member(doc: StaffDoc) -> Staff:
    return Staff(
        key=doc.id,
        name=doc.name,
        services={s.id: s.duration for s in doc.services},
        weekly={
            WEEKDAYS.index(day) + 1: tuple(_period(p) for p in periods)
            for day, periods in doc.hours.items()
        },
        exceptions={
            e.date: DayException(e.date, tuple(_period(p) for p in e.hours), e.note)
            for e in doc.exceptions
        },
        google_calendar=doc.google_calendar,
    )


def _period(doc: PeriodDoc) -> WorkPeriod:
    breaks = []
    for text in doc.breaks:
        start, _, end = text.partition("-")
        breaks.append((time_of(start), time_of(end)))
    return WorkPeriod(time_of(doc.start), time_of(doc.end), tuple(breaks))
