"""What salonbot tells staff: a booking's notice, a day's agenda, the answers about linking.

Pure rendering in the staff chat's language, with dates and times in the salon's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from core.conversation.messages import Reply
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from core.i18n.catalogs import translations
from core.i18n.formatting import local_date, local_time

# The longest agenda, in UTF-16 code units: Telegram's limit for a message (it counts
# those), and never more characters than WhatsApp's. A day longer than this is cut by
# whole lines, and "…and N more" says so (a line can be over 400 characters: a service's
# and a customer's name of 200 each).
MOST_AGENDA_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who a visit is for, as staff see them; both empty for a walk-in without details."""

    name: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    """One visit of a staff member's day."""

    start: datetime
    service_key: str
    visitor: Visitor
    status: BookingStatus
    customer_confirmed: bool = False
    customer_id: int | None = None


def named_in(entries: Sequence[AgendaEntry]) -> list[int]:
    """The customers an agenda of ``entries`` names (``customer forget`` looks for them)."""
    return sorted({e.customer_id for e in entries if e.customer_id is not None})


class StaffTexts:
    """Staff-facing phrases in one language for one salon."""

    def __init__(self, catalog: Catalog, language: str) -> None:
        self.catalog = catalog
        self.language = language
        self._ = translations(language).gettext

    def _when(self, moment: datetime) -> str:
        zone = self.catalog.salon.zone
        return self._("%(day)s at %(time)s") % {
            "day": local_date(moment, zone, self.language),
            "time": local_time(moment, zone, self.language),
        }

    def _service(self, key: str) -> str:
        service = self.catalog.services.get(key)
        return service.name(self.language) if service is not None else key

    def _staff(self, key: str) -> str:
        member = self.catalog.staff.get(key)
        return member.name if member is not None else key

    def _visitor(self, visitor: Visitor) -> str:
        name = visitor.name.strip() or self._("a customer without a name")
        return f"{name}, {visitor.phone}" if visitor.phone else name

    # -- notices --------------------------------------------------------------------------

    def booked(self, booking: Booking, visitor: Visitor) -> str:
        return self._details(self._("New booking"), booking, visitor)

    def cancelled(self, booking: Booking, visitor: Visitor) -> str:
        return self._details(self._("Booking cancelled"), booking, visitor)

    def attendance_confirmed(self, booking: Booking, visitor: Visitor) -> str:
        return self._details(self._("The customer confirmed they are coming"), booking, visitor)

    def moved(self, before: Booking, after: Booking, visitor: Visitor) -> str:
        was, now = self._when(before.start), self._when(after.start)
        if before.staff_key != after.staff_key:
            was += f" ({self._staff(before.staff_key)})"
            now += f" ({self._staff(after.staff_key)})"
        return "\n".join(
            [
                self._("Booking moved"),
                f"{self._service(after.service_key)}: {self._visitor(visitor)}",
                self._("Was: %(when)s") % {"when": was},
                self._("Now: %(when)s") % {"when": now},
            ]
        )

    # -- their Google Calendar -------------------------------------------------------------

    def calendar_conflict(self, booking: Booking, first_name: str) -> str:
        """An event of the staff member's own calendar now overlaps ``booking``."""
        return "\n".join(
            [
                self._("Your Google Calendar event now overlaps booking #%(id)d: %(visit)s.")
                % {"id": booking.id, "visit": self._visit(booking, first_name)},
                self._("Move your event, or the booking on the staff page."),
            ]
        )

    def calendar_reverted(self, booking: Booking, first_name: str, detail: str) -> str:
        """salonbot put back the staff member's change of ``booking``'s event in Google (a
        move, a new length, an all-day or recurring event); ``detail`` says why (one of
        ``core.linked_calendars.edits.RevertReason``'s, translated here, or shown as is)."""
        why = self._(detail) if detail else self._("the change could not be applied")
        return "\n".join(
            [
                self._(
                    "You changed booking #%(id)d in Google Calendar; salonbot put it back: %(why)s."
                )
                % {"id": booking.id, "why": why.rstrip(".")},
                self._("It stays at its time: %(visit)s.")
                % {"visit": self._visit(booking, first_name)},
            ]
        )

    def _visit(self, booking: Booking, first_name: str) -> str:
        """The service, the local time and the customer's first name, comma-separated."""
        who = first_name.strip() or self._("a customer without a name")
        return f"{self._service(booking.service_key)}, {self._when(booking.start)}, {who}"

    def _details(self, headline: str, booking: Booking, visitor: Visitor) -> str:
        return "\n".join(
            [
                headline,
                f"{self._service(booking.service_key)}: {self._visitor(visitor)}",
                self._when(booking.start),
            ]
        )

    # -- the day --------------------------------------------------------------------------

    def agenda(self, day: date, entries: Sequence[AgendaEntry]) -> str:
        """The staff member's bookings of local ``day``, in time order, or a short line
        saying there are none."""
        day_name = local_date(_noon(day, self.catalog), self.catalog.salon.zone, self.language)
        if not entries:
            return self._("%(day)s: nothing booked.") % {"day": day_name}
        lines = [self._("%(day)s, your bookings:") % {"day": day_name}]
        room = MOST_AGENDA_LENGTH - _length(lines[0])
        # Kept free until the last line is in: the longest "…and N more" there can be.
        for_more = _length("\n" + self._more(len(entries)))
        ordered = sorted(entries, key=lambda e: e.start)
        for shown, entry in enumerate(ordered):
            line = "\n" + self._entry(entry)
            last = shown == len(ordered) - 1
            if _length(line) > room - (0 if last else for_more):
                lines.append(self._more(len(ordered) - shown))
                break
            lines.append(line[1:])
            room -= _length(line)
        return "\n".join(lines)

    def _more(self, count: int) -> str:
        return self._("…and %(count)d more.") % {"count": count}

    def _entry(self, entry: AgendaEntry) -> str:
        time = local_time(entry.start, self.catalog.salon.zone, self.language)
        line = f"{time} {self._service(entry.service_key)}: {self._visitor(entry.visitor)}"
        return f"{line} ({self._status(entry)})"

    def _status(self, entry: AgendaEntry) -> str:
        if entry.status is BookingStatus.COMPLETED:
            return self._("done")
        if entry.status is BookingStatus.NO_SHOW:
            return self._("did not come")
        if entry.customer_confirmed:
            return self._("confirmed by the customer")
        return self._("booked")

    # -- linking and commands -------------------------------------------------------------

    def linked(self, staff_name: str) -> Reply:
        return Reply(
            self._(
                "Linked: this chat now gets %(name)s's booking notices and agenda. "
                "Send /today or /tomorrow for your day, /unlink to stop."
            )
            % {"name": staff_name}
        )

    def bad_code(self) -> Reply:
        return Reply(
            self._(
                "That code is not valid: it may be mistyped, used already or expired. "
                "Ask the salon's owner for a new one."
            )
        )

    def code_missing(self) -> Reply:
        return Reply(self._("Send the code from the salon's owner with the command: /link CODE"))

    def unlinked(self) -> Reply:
        return Reply(self._("Unlinked: this chat gets no more staff notices."))

    def staff_only(self) -> Reply:
        return Reply(self._("That command is for the salon's staff."))


def _length(text: str) -> int:
    """``text``'s length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def _noon(day: date, catalog: Catalog) -> datetime:
    """An instant inside local ``day`` (its noon exists in every zone), to name the day."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=catalog.salon.zone)
