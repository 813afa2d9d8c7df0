"""The sentences the conversation is made of, in the customer's language.

Every customer-facing string goes through the language's gettext catalog here or in the
screens; dates, times, prices and durations are formatted by Babel in the salon's zone.
"""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_datetime, get_timezone_location

from core.domain.booking import Booking
from core.domain.catalog import Catalog
from core.i18n.catalogs import available_languages, translations
from core.i18n.formatting import duration, local_date, local_time, price


class Words:
    """Phrases in one language for one salon."""

    def __init__(self, catalog: Catalog, language: str) -> None:
        self.catalog = catalog
        self.language = language
        self._ = translations(language).gettext

    def short_day(self, moment: datetime) -> str:
        """``Tue 8 Dec`` / ``вт 8 дек.``: a day label that fits a button."""
        local = moment.astimezone(self.catalog.salon.zone)
        return format_datetime(local, "EEE d MMM", locale=self.language)

    def day(self, moment: datetime) -> str:
        return local_date(moment, self.catalog.salon.zone, self.language)

    def time(self, moment: datetime) -> str:
        return local_time(moment, self.catalog.salon.zone, self.language)

    def zone_note(self) -> str:
        city = get_timezone_location(
            self.catalog.salon.zone, locale=self.language, return_city=True
        )
        return self._("Times are in the salon's time zone (%(city)s).") % {"city": city}

    def staff_name(self, staff_key: str | None) -> str:
        member = self.catalog.staff.get(staff_key or "")
        return member.name if member is not None else self._("any specialist")

    def service_name(self, service_key: str) -> str:
        service = self.catalog.services.get(service_key)
        return service.name(self.language) if service is not None else service_key

    def service_line(self, service_key: str, staff_key: str | None = None) -> str:
        """``Manicure: 1 hour, €40.00`` (with that staff member's own duration, if any)."""
        service = self.catalog.service(service_key)
        length = service.duration
        member = self.catalog.staff.get(staff_key or "")
        if member is not None and member.performs(service_key):
            length = member.duration_of(service)
        return self._("%(service)s: %(duration)s, %(price)s") % {
            "service": service.name(self.language),
            "duration": duration(length, self.language),
            "price": price(service.price, self.catalog.salon.currency, self.language),
        }

    def visit(self, booking: Booking) -> str:
        """Every detail of a visit, one per line; of a service the catalog no longer offers,
        its name alone (a visit booked before the owner dropped it still takes place)."""
        if booking.service_key in self.catalog.services:
            what = self.service_line(booking.service_key, booking.staff_key)
        else:
            what = self.service_name(booking.service_key)
        return "\n".join(
            [
                what,
                self._("Specialist: %(name)s") % {"name": self.staff_name(booking.staff_key)},
                self._("When: %(day)s at %(time)s")
                % {"day": self.day(booking.start), "time": self.time(booking.start)},
                self.zone_note(),
            ]
        )

    def visit_label(self, booking: Booking) -> str:
        return f"{self.short_day(booking.start)} {self.time(booking.start)} " + self.service_name(
            booking.service_key
        )

    def contacts(self) -> str:
        salon = self.catalog.salon
        lines = []
        if salon.address:
            lines.append(self._("Address: %(address)s") % {"address": salon.address})
        if salon.phone:
            lines.append(self._("Phone: %(phone)s") % {"phone": salon.phone})
        return "\n".join(lines)


def offered_languages(catalog: Catalog) -> list[str]:
    """The salon's languages that have a shipped catalog, the salon's order kept."""
    shipped = set(available_languages())
    return [language for language in catalog.salon.languages if language in shipped] or ["en"]


def language_name(language: str) -> str:
    """The language's name in itself: ``English``, ``Русский``."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]
