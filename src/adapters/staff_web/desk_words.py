"""The words of the staff pages that act: the booking page, the walk-in form, time off and
the customers' pages, with what each refusal and each done action says.

Like ``words``: every string here in Python for ``pybabel extract``; templates only pick.
"""

from __future__ import annotations

from datetime import date, time

from adapters.staff_web.words import PageWords
from core.domain.booking import BookingStatus
from core.i18n.catalogs import translations

# What the page says after an action, by the key the redirect carries (``?done=``).
DONE_KEYS = frozenset(
    {"booked", "moved", "cancelled", "completed", "no_show", "time_off_added", "time_off_removed"}
)


class DeskWords(PageWords):
    """``PageWords`` and the phrases of the forms, their refusals and their results."""

    def __init__(self, language: str) -> None:
        super().__init__(language)
        _ = translations(self.language).gettext
        # The booking page
        self.service = _("Service")
        self.staff_member = _("Staff member")
        self.customer = _("Customer")
        self.when = _("When")
        self.status_label = _("Status")
        self.phone = _("Phone")
        self.chat = _("Chat")
        self.history = _("History")
        self.move = _("Move")
        self.move_booking = _("Move the booking")
        self.date = _("Date")
        self.time_label = _("Time")
        self.cancel_booking = _("Cancel the booking")
        self.reason = _("Reason (the customer is told)")
        self.outcome = _("How did the visit go?")
        self.mark_completed = _("Completed")
        self.mark_no_show = _("No-show")
        self.full_page = _("Open the booking's page")
        self.back_to_day = _("Back to the day")
        self.only_theirs = _("Only the owner or the staff member of this booking can change it.")
        self.nothing_to_do = _("Nothing more can be done with this booking.")
        self.free_nearby = _("Free times nearby:")
        self.bookings_in_the_way = _("Bookings in that time:")
        self._booking_title = _("Booking #%(id)s")
        self._actions = {
            "held": _("Held"),
            "booked": _("Booked"),
            "confirmed": _("Confirmed"),
            "released": _("Hold released"),
            "cancelled": _("Cancelled"),
            "rescheduled": _("Moved"),
            "attendance_confirmed": _("The customer confirmed they are coming"),
            "completed": _("Completed"),
            "no_show": _("No-show"),
        }
        self._actors = {"customer": _("the customer"), "system": _("salonbot")}
        # The walk-in form
        self.anyone = _("Anyone free")
        self.show_free_times = _("Show free times")
        self.free_times = _("Free times")
        self.no_free_times = _("No free times that day.")
        self.choose_service_first = _("Choose a service and a day to see the free times.")
        self.find_customer = _("Find a customer")
        self.name_or_phone = _("Name or phone")
        self.search = _("Search")
        self.no_customer_found = _("No customer found.")
        self.new_customer = _("New customer")
        self.name = _("Name")
        self.book = _("Book")
        # Customers
        self.visits = _("Visits")
        self.completed_count = _("Visits made")
        self.cancelled_count = _("Cancellations")
        self.no_show_count = _("No-shows")
        self.no_visits = _("No visits yet.")
        # Time off
        self.start_label = _("From")
        self.end_label = _("To")
        self.time_off_reason = _("Reason")
        self.add_time_off = _("Add time off")
        self.remove = _("Remove")
        self.no_time_off = _("No time off this week.")
        self.only_own_time_off = _("Only the owner or this staff member can change their time off.")
        self._time_off_title = _("Time off of %(name)s, week of %(day)s")
        # Results
        self._done = {
            "booked": _("The booking is made."),
            "moved": _("The booking is moved."),
            "cancelled": _("The booking is cancelled. A customer who chats with us is told."),
            "completed": _("The visit is marked completed."),
            "no_show": _("The visit is marked as a no-show."),
            "time_off_added": _("The time off is added."),
            "time_off_removed": _("The time off is removed."),
        }
        # Refusals
        self.not_allowed = _(
            "Your role does not allow this: a staff member changes only their own "
            "bookings and time off."
        )
        self.slot_taken = _("That time is no longer free.")
        self.slot_not_offered = _(
            "That time cannot be booked: it is outside working hours or against the "
            "salon's booking rules."
        )
        self._invalid_transition = _("This booking is %(status)s: it cannot be changed so.")
        # What the desk says besides a status (``InvalidTransition.status``), in words.
        self._transition_reasons = {
            "not started yet": _("This visit has not started yet: mark it once it has begun."),
            "started": _("This visit has already started: it cannot be changed so."),
        }
        self._cannot_change = _("This booking cannot be changed so.")
        self.time_off_conflict = _("There are bookings in that time: move or cancel them first.")
        self.booking_not_found = _("There is no such booking.")
        self.unknown_staff = _("There is no such staff member.")
        self.unknown_service = _("There is no such service.")
        self.does_not_perform = _("That staff member does not perform this service.")
        self._no_such_time = _("%(time)s does not exist on %(day)s: the clocks go forward.")
        self.customer_not_found = _("There is no such customer.")
        self.time_off_not_found = _("That time off is no longer there.")
        self.changed_meanwhile = _(
            "The booking has changed since this page was opened: look at it again."
        )
        self.bad_day = _("Enter a date as YYYY-MM-DD.")
        self.bad_time = _("Enter a time as HH:MM.")
        self.bad_span = _("The end must come after the start.")
        self.choose_service = _("Choose a service.")
        self.choose_customer = _("Choose a customer or add a new one.")
        self.bad_request = _("This form could not be read. Reload the page and try again.")
        self._request_reused = _(
            "This form has already made booking #%(id)s. To book what it says now as well, "
            "press Book again."
        )
        self._entries = {
            ("name", "empty"): _("Enter the customer's name."),
            ("name", "too_long"): _("The name is too long."),
            ("phone", "too_long"): _("The phone number is too long."),
            ("phone", "no_digits"): _("A phone number needs digits."),
            ("reason", "too_long"): _("The reason is too long."),
            ("search", "too_long"): _("The search is too long."),
            ("span", "empty"): self.bad_span,
        }

    def booking_title(self, booking_id: int) -> str:
        return self._booking_title % {"id": booking_id}

    def action(self, action: str) -> str:
        return self._actions.get(action, action)

    def actor(self, actor: str) -> str:
        """A staff user's email as it is; "customer" and "system" in words."""
        return self._actors.get(actor, actor)

    def done(self, key: str) -> str:
        return self._done.get(key, "")

    def invalid_transition(self, status: str) -> str:
        """``status`` as ``InvalidTransition`` carries it: a ``BookingStatus`` value, or a
        reason the desk gives ("started", "not started yet"); any other, never shown as it
        is (it is English), a plain "cannot be changed"."""
        if status in BookingStatus.__members__.values():
            said = self.status(BookingStatus(status)).lower()
            return self._invalid_transition % {"status": said}
        return self._transition_reasons.get(status, self._cannot_change)

    def request_reused(self, booking_id: int) -> str:
        return self._request_reused % {"id": booking_id}

    def no_such_time(self, day: date, at: time) -> str:
        return self._no_such_time % {"time": self.clock(at), "day": self.day(day)}

    def entry(self, field: str, problem: str) -> str:
        return self._entries.get((field, problem), self.bad_request)

    def time_off_heading(self, name: str, monday: date) -> str:
        return self._time_off_title % {"name": name, "day": self.short_day(monday)}
