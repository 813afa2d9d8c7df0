"""The words of the day page's "Google Calendar" notices (``linked.html``): alerts, stuck
pushes and each calendar's sync state, in the staff user's language and the salon's zone.

Like ``words``: every string here in Python for ``pybabel extract``; the template picks.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from core.calendar.linked import (
    CalendarAlertLine,
    CalendarSyncLine,
    LinkedCalendarNotices,
    StuckPush,
)
from core.i18n.catalogs import FALLBACK, available_languages, translations


class LinkedWords:
    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language if language in available_languages() else FALLBACK
        self.zone = zone
        self._catalog = translations(self.language)
        _ = self._catalog.gettext
        self.heading = _("Google Calendar")
        self.in_step = _("in step")
        self.dismiss = _("Dismiss")
        self._booking = _("Booking #%(id)s")
        self._conflict = _("an event in the Google Calendar overlaps this booking")
        self._reverted = _("a change made in Google Calendar was put back: %(why)s")
        self._no_reason = _("the change could not be applied")
        self._parked = {
            "put": _("not on the Google Calendar; salonbot gave up: %(error)s"),
            "remove": _("not taken off the Google Calendar; salonbot gave up: %(error)s"),
        }
        self._failing = {
            "put": _("not on the Google Calendar yet: %(error)s; try %(tries)d at %(time)s"),
            "remove": _(
                "not taken off the Google Calendar yet: %(error)s; try %(tries)d at %(time)s"
            ),
        }
        self._synced = _("read back at %(time)s")
        self._never = _("not read back yet")

    def summary(self, notices: LinkedCalendarNotices) -> str:
        """What the closed notice area says: in step, or how many things to look at."""
        count = (
            len(notices.alerts) + len(notices.pushes) + sum(1 for s in notices.syncs if s.failures)
        )
        if not count:
            return self.in_step
        return self._catalog.ngettext(
            "%(count)d thing to look at", "%(count)d things to look at", count
        ) % {"count": count}

    def booking(self, booking_id: int) -> str:
        return self._booking % {"id": booking_id}

    def moment(self, moment: datetime) -> str:
        return format_datetime(
            moment.astimezone(self.zone), format="EEE d MMM HH:mm", locale=self.language
        )

    def alert(self, alert: CalendarAlertLine) -> str:
        if alert.kind == "conflict":
            return self._conflict
        # A reason salonbot gave (``RevertReason``) is in the catalogs; any other as it is.
        why = self._catalog.gettext(alert.detail) if alert.detail else self._no_reason
        return self._reverted % {"why": why}

    def push(self, push: StuckPush) -> str:
        error = push.last_error or "?"
        if push.parked or push.next_attempt_at is None:
            return self._parked.get(push.action, self._parked["put"]) % {"error": error}
        return self._failing.get(push.action, self._failing["put"]) % {
            "error": error,
            "tries": push.attempts + 1,
            "time": self.moment(push.next_attempt_at),
        }

    def sync(self, sync: CalendarSyncLine) -> str:
        if sync.failures:
            failed = self._catalog.ngettext(
                "reading it back failed: %(error)s",
                "reading it back failed %(count)d times in a row: %(error)s",
                sync.failures,
            )
            return failed % {"count": sync.failures, "error": sync.last_error or "?"}
        if sync.synced_at is None:
            return self._never
        return self._synced % {"time": self.moment(sync.synced_at)}
