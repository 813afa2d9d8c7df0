"""The staff pages' words in the staff user's language, through the bot's own catalogs.

Every string the pages show is here, in Python, so ``pybabel extract`` finds it and the
i18n tests hold the catalogs to it; the templates only pick them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from core.calendar.views import ShadeKind
from core.domain.booking import BookingStatus
from core.i18n.catalogs import FALLBACK, available_languages, translations


def language_of(accept_language: str | None) -> str:
    """The first language of an ``Accept-Language`` header that salonbot speaks (for the
    login page, before we know who is signing in)."""
    spoken = available_languages()
    for part in (accept_language or "").split(",")[:20]:
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in spoken:
            return tag
    return FALLBACK


class PageWords:
    """Phrases of the staff pages in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in available_languages() else FALLBACK
        _ = translations(self.language).gettext
        self.title = _("Salon calendar")
        self.sign_in = _("Sign in")
        self.email = _("Email")
        self.password = _("Password")
        self.refused = _("Wrong email or password.")
        self.locked = _("Too many failed attempts. Try again later.")
        self.sign_out = _("Sign out")
        self.today = _("Today")
        self.previous_day = _("Previous day")
        self.next_day = _("Next day")
        self.previous_week = _("Previous week")
        self.next_week = _("Next week")
        self.day_view = _("Whole salon")
        self.week_view = _("Week")
        self.calendar_feed = _("Calendar feed")
        self.now = _("Now")
        self.nobody_works = _("Nobody works this day.")
        self.not_found = _("Page not found")
        self.back_to_today = _("Back to today")
        self.not_ready = _("The salon is not set up yet: its catalog is not loaded.")
        self.confirmed_by_customer = _("Confirmed by the customer")
        self.walk_in = _("Walk-in or phone")
        self.new_booking = _("New booking")
        self.customers = _("Customers")
        self.time_off_title = _("Time off")
        self.close = _("Close")
        self.loading = _("Loading…")
        self.load_failed = _("Could not load this. Check the connection and try again.")
        self.calendar_changed = _("The calendar has changed.")
        self.refresh = _("Refresh")
        self._statuses = {
            BookingStatus.HELD: _("Held, not yet confirmed"),
            BookingStatus.CONFIRMED: _("Confirmed"),
            BookingStatus.CANCELLED: _("Cancelled"),
            BookingStatus.COMPLETED: _("Completed"),
            BookingStatus.NO_SHOW: _("No-show"),
        }
        self._shades = {
            ShadeKind.CLOSED: _("Not working"),
            ShadeKind.BREAK: _("Break"),
            ShadeKind.TIME_OFF: _("Time off"),
        }
        self._week_title = _("%(name)s: week of %(day)s")

    def status(self, status: BookingStatus) -> str:
        return self._statuses[status]

    def shade(self, kind: ShadeKind) -> str:
        return self._shades[kind]

    def channel(self, channel: str) -> str:
        """The customer's channel by its name (Telegram, WhatsApp), or "walk-in"."""
        return channel.capitalize().replace("app", "App") if channel else self.walk_in

    def day(self, day: date) -> str:
        return format_date(day, format="EEEE, d MMMM y", locale=self.language)

    def short_day(self, day: date) -> str:
        return format_date(day, format="EEE d MMM", locale=self.language)

    def clock(self, moment: time) -> str:
        return format_time(moment, format="HH:mm", locale=self.language)

    def time(self, moment: datetime, zone: ZoneInfo) -> str:
        return self.clock(moment.astimezone(zone).time())

    def week_title(self, name: str, monday: date) -> str:
        return self._week_title % {"name": name, "day": self.short_day(monday)}
