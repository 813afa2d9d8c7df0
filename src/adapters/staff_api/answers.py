"""What the API answers, and how the core's values become it.

Instants are UTC (ISO 8601, ``Z``); ``date`` and ``zone`` say which local day of which
IANA zone a view is, for display.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.calendar.desk import BookingDetail, CustomerCard, FreeStart, HistoryLine
from core.calendar.ports import Role, SignedIn, StaffUser
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind, StaffDay
from core.domain.booking import BookingStatus


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class UserOut(_Answer):
    id: int
    email: str
    role: Role
    staff: str | None
    language: str

    @classmethod
    def of(cls, user: StaffUser) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            staff=user.staff_key,
            language=user.language,
        )


class SessionOut(_Answer):
    """A bearer token (sent as ``Authorization: Bearer <token>``) and when it lapses
    unless used: each use extends it, up to the session's longest life."""

    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name
    expires_at: datetime
    user: UserOut

    @classmethod
    def of(cls, signed: SignedIn) -> SessionOut:
        return cls(
            token=signed.token, expires_at=_utc(signed.expires_at), user=UserOut.of(signed.user)
        )


class BookingOut(_Answer):
    """One booking as the calendar shows it. ``channel``: where the customer chats, or ""
    for one added by staff."""

    id: int
    version: int
    staff: str
    start: datetime
    end: datetime
    service: str
    service_name: str
    customer_name: str
    customer_phone: str
    channel: str
    status: BookingStatus
    customer_confirmed: bool

    @classmethod
    def of(cls, block: BookingBlock, staff_key: str) -> BookingOut:
        return cls(
            id=block.id,
            version=block.version,
            staff=staff_key,
            start=_utc(block.start),
            end=_utc(block.end),
            service=block.service_key,
            service_name=block.service_name,
            customer_name=block.customer_name,
            customer_phone=block.customer_phone,
            channel=block.channel,
            status=block.status,
            customer_confirmed=block.customer_confirmed,
        )


class UnavailableOut(_Answer):
    """Time a staff member cannot be booked, and why."""

    kind: ShadeKind
    start: datetime
    end: datetime
    note: str

    @classmethod
    def of(cls, shade: Shade) -> UnavailableOut:
        return cls(kind=shade.kind, start=_utc(shade.start), end=_utc(shade.end), note=shade.note)


class ColumnOut(_Answer):
    staff: str
    staff_name: str
    bookings: list[BookingOut]
    unavailable: list[UnavailableOut]

    @classmethod
    def of(cls, column: StaffDay) -> ColumnOut:
        return cls(
            staff=column.staff_key,
            staff_name=column.staff_name,
            bookings=[BookingOut.of(b, column.staff_key) for b in column.bookings],
            unavailable=[UnavailableOut.of(s) for s in column.shades],
        )


class DayOut(_Answer):
    """The salon's local ``date``: a column per staff member, from the earliest opening
    (``opens``) to the latest closing (``closes``) of anyone that day."""

    date: date
    zone: str
    opens: datetime
    closes: datetime
    now: datetime
    columns: list[ColumnOut]

    @classmethod
    def of(cls, view: DayView) -> DayOut:
        return cls(
            date=view.day,
            zone=view.zone.key,
            opens=_utc(view.opens),
            closes=_utc(view.closes),
            now=_utc(view.now),
            columns=[ColumnOut.of(c) for c in view.columns],
        )


class CustomerOut(_Answer):
    """``channel``: where they chat (``telegram``, ``whatsapp``, ``terminal``), or "" for
    one added by staff."""

    id: int
    name: str
    phone: str
    channel: str
    language: str | None

    @classmethod
    def of(cls, card: CustomerCard) -> CustomerOut:
        return cls(
            id=card.id,
            name=card.name,
            phone=card.phone,
            channel=card.channel,
            language=card.language,
        )


class HistoryOut(_Answer):
    """One recorded change: ``actor`` a staff user's email, "customer" or "system"."""

    at: datetime
    action: str
    actor: str
    note: str

    @classmethod
    def of(cls, line: HistoryLine) -> HistoryOut:
        return cls(at=_utc(line.at), action=line.action, actor=line.actor, note=line.note)


class BookingDetailOut(_Answer):
    booking: BookingOut
    staff_name: str
    customer: CustomerOut | None
    history: list[HistoryOut]
    zone: str

    @classmethod
    def of(cls, detail: BookingDetail) -> BookingDetailOut:
        customer = detail.customer
        return cls(
            booking=BookingOut.of(detail.block, detail.staff_key),
            staff_name=detail.staff_name,
            customer=CustomerOut.of(customer) if customer is not None else None,
            history=[HistoryOut.of(line) for line in detail.history],
            zone=detail.zone.key,
        )


class FreeStartOut(_Answer):
    staff: str
    start: datetime

    @classmethod
    def of(cls, free: FreeStart) -> FreeStartOut:
        return cls(staff=free.staff_key, start=_utc(free.start))


class AvailabilityOut(_Answer):
    """The starts ``service`` can be booked at on the local ``date``, earliest first."""

    date: date
    service: str
    staff: str | None
    starts: list[FreeStartOut]
