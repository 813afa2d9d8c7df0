"""Drawing the screen a chat stands on: its text and the choices it offers.

Screens only read: they ask the desk for slots and bookings and never change anything.
Each screen is drawn by one method here, named in its row of ``PAGES`` (``dialogue.py``).
A list longer than the channel allows is paged; every choice but those valid anywhere
carries the state's generation (see ``core.conversation.state``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from core.conversation.capacity import ChannelCapacity, paginate
from core.conversation.contract import Anywhere, Mode, Op
from core.conversation.desk_port import Desk
from core.conversation.messages import Choice, Reply
from core.conversation.reminders import confirm_visit_choice
from core.conversation.state import (
    ANY_STAFF,
    State,
    choice,
    from_stamp,
    global_choice,
    stamp,
)
from core.conversation.words import Words, language_name, offered_languages
from core.domain.availability import Slot, SlotQuery, local_day
from core.domain.catalog import Catalog, Service
from core.i18n.formatting import duration

# Days are offered this far ahead at most, even when the salon's horizon is longer.
DAYS_SHOWN = 92
OTHER = "_"  # the category of services the owner put in none


def day_arg(day: date) -> str:
    return day.strftime("%Y%m%d")


def services_in(catalog: Catalog, category: str | None) -> list[Service]:
    if category is None:
        return list(catalog.services.values())
    return [s for s in catalog.services.values() if (s.category or OTHER) == category]


def categories_shown(catalog: Catalog) -> list[str]:
    """The categories to pick from first; empty when there is nothing to group."""
    used = {s.category or OTHER for s in catalog.services.values()}
    ordered = [key for key in catalog.categories if key in used]
    if OTHER in used:
        ordered.append(OTHER)
    return ordered if len(ordered) > 1 else []


class Screens:
    """The drawing of each screen for one step; ``greeting`` opens the menu when given."""

    def __init__(
        self,
        desk: Desk,
        catalog: Catalog,
        words: Words,
        capacity: ChannelCapacity,
        state: State,
        greeting: str = "",
    ) -> None:
        self.desk = desk
        self.catalog = catalog
        self.words = words
        self.capacity = capacity
        self.state = state
        self.greeting = greeting
        self._ = words._

    # -- paging ---------------------------------------------------------------------------

    def _paged(self, text: str, items: Sequence[Choice], fixed: Sequence[Choice] = ()) -> Reply:
        """``items`` paged within the channel; ``fixed`` (a way back) on every page.

        A channel too small for a page of items plus ``fixed`` gets ``fixed`` after the
        items instead, on the last page.
        """
        generation = self.state.generation
        room = self.capacity.choices_per_message - len(fixed)
        if room >= 3:
            capacity = ChannelCapacity(room, self.capacity.label_length)
            extra = tuple(Choice(c.id, self.capacity.fit_label(c.label)) for c in fixed)
        else:
            capacity, items, extra = self.capacity, [*items, *fixed], ()
        page = paginate(
            items,
            capacity,
            self.state.page,
            more=lambda n: choice(generation, Op.PAGE, self._("More ›"), str(n)),
            back=lambda n: choice(generation, Op.PAGE, self._("‹ Back"), str(n)),
        )
        self.state.page = page.number
        return Reply(text, page.choices + extra)

    def _back(self, label: str) -> Choice:
        return choice(self.state.generation, Op.BACK, label)

    # -- the main menu and its neighbours -------------------------------------------------

    def menu_choices(self) -> list[Choice]:
        _ = self._
        return [
            global_choice(Anywhere.BOOK, _("Book a visit")),
            global_choice(Anywhere.MY_BOOKINGS, _("My bookings")),
            global_choice(Anywhere.LANGUAGE, _("Language")),
            global_choice(Anywhere.HELP, _("Help")),
        ]

    async def menu(self) -> Reply:
        question = self._("What would you like to do?")
        greeting = self.greeting
        lines = [f"{greeting}\n{question}" if greeting else question]
        if contacts := self.words.contacts():
            lines.append(contacts)
        return self._paged("\n\n".join(lines), self.menu_choices())

    async def help(self) -> Reply:
        _ = self._
        text = "\n".join(
            [
                _("I can book a visit for you, show your bookings, move or cancel them."),
                _("Tap a button, or send one of these commands:"),
                _("/book: book a visit"),
                _("/my: your bookings"),
                _("/cancel: stop what we are doing, or cancel a visit"),
                _("/language: change the language"),
                _("/help: this message"),
            ]
        )
        contacts = self.words.contacts()
        if contacts:
            text += "\n\n" + _("Questions? Contact the salon:") + "\n" + contacts
        return self._paged(text, self.menu_choices())

    async def language(self) -> Reply:
        items = [
            choice(self.state.generation, Op.LANGUAGE, language_name(code), code)
            for code in offered_languages(self.catalog)
        ]
        return self._paged(self._("Choose your language:"), items, [self._back(self._("↩ Menu"))])

    # -- booking: what, who, when ---------------------------------------------------------

    async def category(self) -> Reply:
        names = {key: c.name(self.words.language) for key, c in self.catalog.categories.items()}
        items = [
            choice(
                self.state.generation, Op.CATEGORY, names.get(key) or self._("Other services"), key
            )
            for key in categories_shown(self.catalog)
        ]
        return self._paged(
            self._("What would you like to book?"), items, [self._back(self._("↩ Menu"))]
        )

    async def service(self) -> Reply:
        offered = services_in(self.catalog, self.state.category)
        lines = [self._("Choose a service:")] + [
            "• " + self.words.service_line(s.key) for s in offered
        ]
        items = [
            choice(self.state.generation, Op.SERVICE, s.name(self.words.language), s.key)
            for s in offered
        ]
        label = self._("↩ Categories") if categories_shown(self.catalog) else self._("↩ Menu")
        return self._paged("\n".join(lines), items, [self._back(label)])

    async def staff(self) -> Reply:
        service_key = self.state.service or ""
        members = self.catalog.staff_for(service_key)
        items = [choice(self.state.generation, Op.STAFF, self._("Any specialist"), ANY_STAFF)] + [
            choice(self.state.generation, Op.STAFF, m.name, m.key) for m in members
        ]
        text = self._("Who would you like for %(service)s?") % {
            "service": self.words.service_name(service_key)
        }
        return self._paged(text, items, [self._back(self._("↩ Services"))])

    def _query_staff(self) -> str | None:
        return None if self.state.staff in (None, ANY_STAFF) else self.state.staff

    def days_shown(self) -> tuple[date, date]:
        """The first and last local date the day screen may offer."""
        today = local_day(self.desk.now(), self.catalog)
        horizon = self.catalog.salon.policies.booking_horizon
        return today, today + min(timedelta(days=DAYS_SHOWN), horizon + timedelta(days=1))

    async def open_days(self) -> list[tuple[date, Slot]]:
        """Days with at least one free slot, each with its first slot, soonest first."""
        first_day, last_day = self.days_shown()
        slots = await self.desk.slots(
            SlotQuery(self.state.service or "", first_day, last_day, self._query_staff())
        )
        first: dict[date, Slot] = {}
        for slot in sorted(slots):
            first.setdefault(local_day(slot.start, self.catalog), slot)
        return sorted(first.items())

    async def day(self) -> Reply:
        days = await self.open_days()
        if self.state.mode is Mode.MOVE:
            back = self._("↩ My visit")
        elif len(self.catalog.staff_for(self.state.service or "")) > 1:
            back = self._("↩ Specialists")
        else:
            back = self._("↩ Services")
        intro = self.words.service_line(self.state.service or "", self._query_staff())
        who = self._("Specialist: %(name)s") % {"name": self.words.staff_name(self._query_staff())}
        if not days:
            text = "\n".join([intro, who, "", self._("Sorry, there are no free times to book.")])
            return self._paged(text, [], [self._back(back)])
        items = [
            choice(self.state.generation, Op.DAY, self.words.short_day(slot.start), day_arg(day))
            for day, slot in days
        ]
        text = "\n".join([intro, who, "", self._("Choose a day:")])
        return self._paged(text, items, [self._back(back)])

    async def free_starts(self) -> list[datetime]:
        """The free start times on the chosen day, for the chosen staff or anyone."""
        day = date.fromisoformat(self.state.day or "")
        slots = await self.desk.slots(
            SlotQuery(self.state.service or "", day, day, self._query_staff())
        )
        return sorted({s.start for s in slots if local_day(s.start, self.catalog) == day})

    async def time(self) -> Reply:
        starts = await self.free_starts()
        items = [
            choice(self.state.generation, Op.TIME, self.words.time(start), stamp(start))
            for start in starts
        ]
        if starts:
            text = self._("Free times on %(day)s:") % {"day": self.words.day(starts[0])}
        else:
            text = self._("No free times are left on that day.")
        text += "\n" + self.words.zone_note()
        return self._paged(text, items, [self._back(self._("↩ Other day"))])

    # -- booking: the summary, and a slot just taken ---------------------------------------

    async def summary(self) -> Reply:
        _ = self._
        generation = self.state.generation
        if self.state.mode is Mode.MOVE:
            visit = await self.desk.booking(self.state.booking or 0)
            new_start = from_stamp(self.state.start or "") or visit.start
            text = "\n".join(
                [
                    _("Move your visit?"),
                    self.words.service_line(visit.service_key, visit.staff_key),
                    _("Specialist: %(name)s") % {"name": self.words.staff_name(visit.staff_key)},
                    _("From: %(day)s at %(time)s")
                    % {"day": self.words.day(visit.start), "time": self.words.time(visit.start)},
                    _("To: %(day)s at %(time)s")
                    % {"day": self.words.day(new_start), "time": self.words.time(new_start)},
                    self.words.zone_note(),
                ]
            )
            choices = [
                choice(generation, Op.CONFIRM, _("Yes, move it")),
                self._back(_("↩ Other time")),
                choice(generation, Op.QUIT, _("Keep it as it is")),
            ]
            return self._paged(text, choices)
        hold = await self.desk.booking(self.state.hold or 0)
        ttl = duration(self.catalog.salon.policies.hold_ttl, self.words.language)
        text = "\n".join(
            [
                _("Please check your booking:"),
                self.words.visit(hold),
                "",
                _("We are holding this time for you for %(duration)s. Confirm?")
                % {"duration": ttl},
            ]
        )
        choices = [
            choice(generation, Op.CONFIRM, _("✅ Confirm")),
            self._back(_("↩ Other time")),
            choice(generation, Op.QUIT, _("✖ Cancel")),
        ]
        return self._paged(text, choices)

    async def taken(self) -> Reply:
        _ = self._
        lines = [_("Sorry, that time was just taken.")]
        items = []
        for stamp_text, staff_key in self.state.alternatives:
            start = from_stamp(stamp_text)
            if start is None:
                continue
            when = f"{self.words.short_day(start)} {self.words.time(start)}"
            who = self.words.staff_name(staff_key)
            lines.append(f"• {when}, {who}")
            items.append(
                choice(
                    self.state.generation,
                    Op.ALTERNATIVE,
                    f"{when} {who}",
                    f"{stamp_text}.{staff_key}",
                )
            )
        if items:
            lines.insert(1, _("The nearest free times:"))
        else:
            lines.append(_("There are no free times close to it."))
        return self._paged("\n".join(lines), items, [self._back(_("↩ Other time"))])

    # -- my bookings ----------------------------------------------------------------------

    async def bookings(self) -> Reply:
        _ = self._
        visits = await self.desk.upcoming()
        if not visits:
            return self._paged(
                _("You have no upcoming visits."),
                [
                    global_choice(Anywhere.BOOK, _("Book a visit")),
                    global_choice(Anywhere.MENU, _("↩ Menu")),
                ],
            )
        lines = [_("Your upcoming visits:")] + [
            f"• {self.words.visit_label(v)}, {self.words.staff_name(v.staff_key)}" for v in visits
        ]
        items = [
            choice(self.state.generation, Op.VISIT, self.words.visit_label(v), str(v.id))
            for v in visits
        ]
        return self._paged("\n".join(lines), items, [global_choice(Anywhere.MENU, _("↩ Menu"))])

    async def visit(self) -> Reply:
        _ = self._
        visit = await self.desk.booking(self.state.booking or 0)
        generation = self.state.generation
        choices = [
            choice(generation, Op.RESCHEDULE, _("Reschedule")),
            choice(generation, Op.ASK_CANCEL, _("Cancel visit")),
            self._back(_("↩ My bookings")),
        ]
        if self.catalog.reminders.ask_to_confirm and visit.customer_confirmed_at is None:
            # The salon asks its customers to confirm: here too, as the visit is now (a
            # reminder's Confirm names the version it was sent for).
            choices.insert(0, confirm_visit_choice(self.words, visit))
        return self._paged(self.words.visit(visit), choices)

    async def cancel(self) -> Reply:
        _ = self._
        visit = await self.desk.booking(self.state.booking or 0)
        text = _("Cancel this visit?") + "\n" + self.words.visit(visit)
        choices = [
            choice(self.state.generation, Op.CANCEL, _("Yes, cancel it")),
            self._back(_("No, keep it")),
        ]
        return self._paged(text, choices)
