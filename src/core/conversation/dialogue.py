"""The booking conversation: one inbound event in, one reply out.

``Conversation.handle`` is the state machine. It reads and changes the chat's ``State``,
asks the ``Desk`` to find, hold, confirm, move and cancel, and answers with the screen the
chat now stands on, prefixed by notes about what just happened ("booked", "just taken",
"that button is from an earlier message"). It never raises for anything a customer can
send: stale buttons, unknown text and races with other customers are all answered.

Each screen is one row of ``PAGES`` (at the end of this module): the method that draws it
(``Screens``), what each of its choices does, and where Back leads. Choices valid from any
state are the rows of ``ANYWHERE``.

A hold lives exactly as long as the chat stands on the summary: leaving it any other way
than by confirming releases it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.conversation.capacity import ChannelCapacity
from core.conversation.contract import Anywhere, Mode, Op, Screen
from core.conversation.desk_port import Desk
from core.conversation.messages import (
    Chosen,
    Command,
    Inbound,
    Reply,
    SharedContact,
    Text,
    Unsupported,
)
from core.conversation.screens import Screens, categories_shown, services_in
from core.conversation.state import (
    ANY_STAFF,
    State,
    decode,
    from_stamp,
    small_number,
    stamp,
)
from core.conversation.words import Words, offered_languages
from core.domain.availability import local_day
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import (
    CutoffPassed,
    DomainError,
    SlotNotOffered,
    SlotTaken,
)
from core.i18n.formatting import duration

GREETINGS = frozenset({"hi", "hello", "hey", "start", "menu", "привет", "здравствуйте", "меню"})
_DECORATION = "↩✅✖‹›•· "
_DAY_SHAPE = re.compile(r"[0-9]{8}")


class Conversation:
    def __init__(
        self,
        desk: Desk,
        catalog: Catalog,
        capacity: ChannelCapacity,
        state: State,
        language: str,
        *,
        name: str = "",
        first_contact: bool = False,
    ) -> None:
        self.desk = desk
        self.catalog = catalog
        self.capacity = capacity
        self.state = state
        self.language = language
        self.name = name
        self.first_contact = first_contact
        self._notes: list[str] = []
        self._confirmed: int | None = None

    @property
    def words(self) -> Words:
        return Words(self.catalog, self.language)

    @property
    def _(self) -> Callable[[str], str]:
        return self.words._

    def _screens(self, greeting: str = "") -> Screens:
        return Screens(self.desk, self.catalog, self.words, self.capacity, self.state, greeting)

    async def _render(self, greeting: str = "") -> Reply:
        """The screen the chat stands on; the menu opens with ``greeting`` when given."""
        return await PAGES[self.state.screen].draw(self._screens(greeting))

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Step the conversation; the reply to send. ``self.state`` is the state to save."""
        self._notes, self._confirmed = [], None
        hold_before = self.state.hold
        match inbound:
            case Command(name=name):
                await self._command(name)
            case Chosen(choice_id=choice_id):
                await self._chosen(choice_id)
            case Text(text=text):
                await self._text(text)
            case SharedContact(phone=phone):
                await self._contact(phone)
            case Unsupported():
                self._note(
                    self._("Sorry, I can only read text and the buttons below. Please choose:")
                )
        await self._settle_hold(hold_before)
        self.state.generation += 1
        try:
            reply = await self._render(self._greeting())
        except DomainError:
            # What the screen shows vanished meanwhile: a visit cancelled by the salon, a
            # service or staff member dropped from the catalog.
            self._note(self._("That is no longer available."))
            held = self.state.hold
            self.state = self.state.restart(Screen.MENU)
            if held is not None:
                await self.desk.release(held)
            reply = await self._render(self._greeting())
        notes = list(self._notes)
        if self.first_contact and self.state.screen is not Screen.MENU:
            notes.insert(0, self._greeting())
        button = self._("Choose") if reply.choices else ""
        return [Reply("\n\n".join([*notes, reply.text]), reply.choices, button)]

    def _greeting(self) -> str:
        if not self.first_contact:
            return ""
        salon = self.catalog.salon.name
        if self.name:
            return self._("Hello, %(name)s! Welcome to %(salon)s.") % {
                "name": self.name,
                "salon": salon,
            }
        return self._("Hello! Welcome to %(salon)s.") % {"salon": salon}

    def _note(self, text: str) -> None:
        self._notes.append(text)

    def _go(self, screen: Screen) -> None:
        self.state.screen, self.state.page = screen, 0

    async def _settle_hold(self, hold_before: int | None) -> None:
        kept = self.state.hold if self.state.screen is Screen.SUMMARY else None
        if hold_before is not None and hold_before not in (kept, self._confirmed):
            await self.desk.release(hold_before)
        if self.state.screen is not Screen.SUMMARY:
            self.state.hold = None

    # -- commands, text, contacts ---------------------------------------------------------

    async def _command(self, name: str) -> None:
        if name == "start":
            self.first_contact = True  # greet again: /start is "hello" on Telegram
            self.state = self.state.restart(Screen.MENU)
        elif name == "book":
            self._start_booking()
        elif name == "cancel":
            if PAGES[self.state.screen].booking_flow:
                self._note(self._("Stopped. Nothing was changed."))
                self.state = self.state.restart(Screen.MENU)
            else:
                self.state = self.state.restart(Screen.BOOKINGS)
        elif (screen := _COMMANDS.get(name)) is not None:
            self.state = self.state.restart(screen)
        else:
            self._note(self._("I don't know that command."))
            self.state = self.state.restart(Screen.HELP)

    async def _text(self, text: str) -> None:
        said = text.strip().casefold()
        if said.strip("!.") in GREETINGS:
            self.state = self.state.restart(Screen.MENU)
            return
        try:
            offered = (await self._render()).choices
        except DomainError:
            offered = ()  # the screen cannot be drawn: handle() falls back to the menu
        for number, offer in enumerate(offered, start=1):
            if said == str(number) or said == offer.label.strip(_DECORATION).casefold():
                await self._chosen(offer.id)
                return
        self._note(
            self._("Sorry, I did not understand that. Choose an option below, or send /help.")
        )

    async def _contact(self, phone: str) -> None:
        digits = sum(ch.isascii() and ch.isdigit() for ch in phone)
        if not 5 <= digits <= 20:
            self._note(self._("That does not look like a phone number."))
            return
        await self.desk.set_phone("+" + "".join(ch for ch in phone if ch in "0123456789"))
        self._note(self._("Thank you! We saved your phone number."))

    # -- choices --------------------------------------------------------------------------

    async def _chosen(self, choice_id: str) -> None:
        picked = decode(choice_id)
        if picked is None:
            self._stale()
            return
        op, arg = picked.op, picked.arg
        if isinstance(op, Anywhere):
            if not await ANYWHERE[op](self, arg):
                self._stale()
            return
        if picked.generation != self.state.generation:
            self._stale()
            return
        page, number = PAGES[self.state.screen], small_number(arg)
        if op is Op.PAGE and number is not None:
            self.state.page = number
        elif op is Op.BACK and page.back is not None and not arg:
            page.back(self)
        elif (handler := page.choices.get(op)) is None or not await handler(self, arg):
            self._stale()

    def _stale(self) -> None:
        self._note(self._("That button is from an earlier message. Here is where we are now:"))

    # -- choices valid from any state (see ANYWHERE) ----------------------------------------

    async def _book_anywhere(self, arg: str) -> bool:
        if arg:
            return False
        self._start_booking()
        return True

    def _start_booking(self) -> None:
        self.state = self.state.restart(
            Screen.CATEGORY if categories_shown(self.catalog) else Screen.SERVICE
        )

    def _to_menu(self) -> None:
        self.state = self.state.restart(Screen.MENU)

    def _to_bookings(self) -> None:
        self.state = self.state.restart(Screen.BOOKINGS)

    def _back_from_service(self) -> None:
        if categories_shown(self.catalog):
            self._go(Screen.CATEGORY)
        else:
            self._to_menu()

    def _back_from_day(self) -> None:
        if self.state.mode is Mode.MOVE:
            self._open(self.state.booking)
        else:
            many = len(self.catalog.staff_for(self.state.service or "")) > 1
            self._go(Screen.STAFF if many else Screen.SERVICE)

    def _open(self, booking_id: int | None) -> None:
        self.state = self.state.restart(Screen.VISIT)
        self.state.booking = booking_id

    async def _pick_language(self, code: str) -> bool:
        if code not in offered_languages(self.catalog):
            return False
        await self.desk.set_language(code)
        self.language = code
        self._note(self._("Done! I will speak English from now on."))
        self.state = self.state.restart(Screen.MENU)
        return True

    async def _pick_category(self, key: str) -> bool:
        if key not in categories_shown(self.catalog):
            return False
        self.state.category = key
        self._go(Screen.SERVICE)
        return True

    async def _pick_service(self, key: str) -> bool:
        if key not in {s.key for s in services_in(self.catalog, self.state.category)}:
            return False
        members = self.catalog.staff_for(key)
        if not members:
            return False
        self.state.service = key
        if len(members) == 1:
            self.state.staff = members[0].key
            self._go(Screen.DAY)
        else:
            self._go(Screen.STAFF)
        return True

    async def _pick_staff(self, key: str) -> bool:
        members = {m.key for m in self.catalog.staff_for(self.state.service or "")}
        if key != ANY_STAFF and key not in members:
            return False
        self.state.staff = key
        self._go(Screen.DAY)
        return True

    async def _pick_day(self, arg: str) -> bool:
        # Exactly what the day screen writes (``yyyymmdd``, ASCII digits): int() alone would
        # take "2_02" or "+202", and slicing would ignore anything after 8 characters.
        if not _DAY_SHAPE.fullmatch(arg):
            return False
        try:
            day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:8]))
        except ValueError:
            return False
        first_day, last_day = self._screens().days_shown()
        if not first_day <= day <= last_day:  # not a day this screen could have offered
            return False
        self.state.day = day.isoformat()
        self._go(Screen.TIME)
        return True

    async def _pick_time(self, arg: str) -> bool:
        start = from_stamp(arg)
        # The time screen offers starts on the chosen day only.
        if start is None or self._local_day(start).isoformat() != self.state.day:
            return False
        await self._take(start)
        return True

    async def _pick_alternative(self, arg: str) -> bool:
        stamp_text, _, staff = arg.partition(".")
        start = from_stamp(stamp_text)
        offered = [stamp_text, staff] in self.state.alternatives
        if start is None or not offered or staff not in self.catalog.staff:
            return False
        await self._take(start, staff)
        return True

    async def _take(self, start: datetime, staff: str | None = None) -> None:
        """Hold ``start`` and show the summary; a move takes its slot only on confirm.

        ``staff`` is the specialist an alternative named; otherwise the one chosen, or
        whoever is free when the customer chose "any".
        """
        self.state.day = self._local_day(start).isoformat()
        if self.state.mode is Mode.MOVE:
            self.state.start = stamp(start)
            self._go(Screen.SUMMARY)
            return
        if staff is None and self.state.staff != ANY_STAFF:
            staff = self.state.staff
        try:
            hold = await self.desk.hold(self.state.service or "", start, staff)
        except SlotTaken as taken:
            self._show_taken(taken)
        except SlotNotOffered:
            self._note(self._("That time can no longer be booked. Please choose another."))
            self._go(Screen.TIME)
        except DomainError:  # the catalog changed under the flow: that service or person
            self._note(self._("That is no longer available."))
            self._start_booking()
        else:
            self.state.hold, self.state.start = hold.id, stamp(hold.start)
            self._go(Screen.SUMMARY)

    def _show_taken(self, taken: SlotTaken) -> None:
        self.state.alternatives = [[stamp(a.start), a.staff_key] for a in taken.alternatives]
        self._go(Screen.TAKEN)

    def _local_day(self, moment: datetime) -> date:
        return local_day(moment, self.catalog)

    async def _confirm(self, _arg: str) -> bool:
        if self.state.mode is Mode.MOVE:
            return await self._confirm_move()
        hold = self.state.hold
        if hold is None:
            return False
        try:
            booking = await self.desk.confirm(hold)
        except DomainError:
            self._note(self._("Sorry, that time could not be kept for you any longer."))
            self.state.hold = None
            self._go(Screen.TIME)
            return True
        self._confirmed = hold
        self._note(self._("Booked! See you soon.") + "\n" + self.words.visit(booking))
        self.state = self.state.restart(Screen.MENU)
        return True

    async def _confirm_move(self) -> bool:
        start = from_stamp(self.state.start or "")
        if start is None or self.state.booking is None:
            return False
        try:
            moved = await self.desk.reschedule(self.state.booking, start)
        except SlotTaken as taken:
            self._show_taken(taken)
        except SlotNotOffered:
            self._note(self._("That time can no longer be booked. Please choose another."))
            self._go(Screen.TIME)
        except DomainError as refused:
            self._refused(refused, "move")
        else:
            self._note(self._("Done! Your visit is moved.") + "\n" + self.words.visit(moved))
            self.state = self.state.restart(Screen.MENU)
        return True

    async def _quit(self, _arg: str) -> bool:
        if self.state.mode is Mode.MOVE:
            self._note(self._("Your visit stays as it was."))
            self._open(self.state.booking)
        else:
            self._note(self._("Nothing was booked."))
            self.state = self.state.restart(Screen.MENU)
        return True

    # -- my bookings ----------------------------------------------------------------------

    async def _upcoming(self, booking_id: int) -> Booking | None:
        try:
            visit = await self.desk.booking(booking_id)
        except DomainError:
            return None
        if visit.status is not BookingStatus.CONFIRMED or visit.start <= self.desk.now():
            return None
        return visit

    async def _open_visit(self, arg: str) -> bool:
        booking_id = small_number(arg)
        visit = await self._upcoming(booking_id) if booking_id is not None else None
        if visit is None:
            self._gone()
        else:
            self._open(visit.id)
        return True

    def _too_late(self, visit: Booking, cutoff: timedelta, action: str) -> bool:
        if visit.start - self.desk.now() >= cutoff:
            return False
        self._refuse_late(cutoff, action)
        return True

    def _refuse_late(self, cutoff: timedelta, action: str) -> None:
        notice = duration(cutoff, self.language)
        if action == "cancel":
            text = self._(
                "Sorry, a visit can be cancelled here only up to %(notice)s before it starts."
            )
        else:
            text = self._(
                "Sorry, a visit can be moved here only up to %(notice)s before it starts."
            )
        lines = [text % {"notice": notice}]
        if contacts := self.words.contacts():
            lines += [self._("Please contact the salon, we will help:"), contacts]
        self._note("\n".join(lines))

    def _refused(self, error: DomainError, action: str) -> None:
        """The desk refused to cancel or move the visit: too late, or it is gone."""
        if not isinstance(error, CutoffPassed):
            self._gone()
            return
        policies = self.catalog.salon.policies
        cutoff = (
            policies.customer_cancel_cutoff
            if action == "cancel"
            else policies.customer_reschedule_cutoff
        )
        self._refuse_late(cutoff, action)
        self._open(self.state.booking)

    def _gone(self) -> None:
        self._note(self._("That visit is no longer active."))
        self.state = self.state.restart(Screen.BOOKINGS)

    async def _reschedule(self, _arg: str) -> bool:
        visit = await self._upcoming(self.state.booking or 0)
        if visit is None:
            self._gone()
            return True
        if self._too_late(visit, self.catalog.salon.policies.customer_reschedule_cutoff, "move"):
            return True
        self._start_move(visit)
        return True

    def _start_move(self, visit: Booking) -> None:
        self.state = self.state.restart(Screen.DAY, mode=Mode.MOVE)
        self.state.booking, self.state.service = visit.id, visit.service_key
        self.state.staff = visit.staff_key

    async def _ask_cancel(self, _arg: str) -> bool:
        visit = await self._upcoming(self.state.booking or 0)
        if visit is None:
            self._gone()
            return True
        if not self._too_late(visit, self.catalog.salon.policies.customer_cancel_cutoff, "cancel"):
            self._go(Screen.CANCEL)
        return True

    async def _cancel(self, _arg: str) -> bool:
        try:
            visit = await self.desk.cancel(self.state.booking or 0)
        except DomainError as refused:
            self._refused(refused, "cancel")
            return True
        self._note(
            self._("Your visit on %(day)s at %(time)s is cancelled.")
            % {"day": self.words.day(visit.start), "time": self.words.time(visit.start)}
        )
        self.state = self.state.restart(Screen.BOOKINGS)
        return True

    # -- a visit's own buttons (a reminder's), valid from any state -----------------------

    async def _visit_named(self, booking_id: int, version: int) -> Booking | None:
        """The visit a button names (its id, and its version when the button was sent),
        if it can still be acted on as the button meant: this customer's, confirmed, not
        moved since, not started.

        Otherwise None, and the customer is told why (a visit that has moved is opened at
        its new time); nothing is changed.
        """
        try:
            visit = await self.desk.booking(booking_id)
        except DomainError:
            self._note(self._("Sorry, I could not find that visit."))
            return None
        when = {"day": self.words.day(visit.start), "time": self.words.time(visit.start)}
        upcoming = visit.start > self.desk.now()
        if visit.status is BookingStatus.CANCELLED:
            self._note(self._("Your visit on %(day)s at %(time)s is cancelled.") % when)
        elif visit.status is not BookingStatus.CONFIRMED:
            self._note(self._("That visit is no longer active."))
        elif visit.version != version:
            self._moved(visit)
        elif not upcoming:
            self._note(self._("That visit has already started."))
        else:
            return visit
        return None

    def _moved(self, visit: Booking) -> None:
        """Tell the customer their visit has moved since the message they tapped, and open
        it as it is now (if it is still ahead)."""
        when = {"day": self.words.day(visit.start), "time": self.words.time(visit.start)}
        self._note(self._("Your visit has moved: it is now on %(day)s at %(time)s.") % when)
        if visit.start > self.desk.now():
            self._open(visit.id)

    async def _confirm_visit(self, visit: Booking) -> None:
        try:
            confirmed = await self.desk.confirm_attendance(visit.id, visit.version)
        except DomainError:
            # Moved, cancelled or started while this tap was handled: say what it is now.
            if await self._visit_named(visit.id, visit.version) is not None:
                self._note(self._("That visit is no longer active."))
            return
        if visit.customer_confirmed_at is not None:
            thanks = self._("You have already confirmed this visit. See you soon!")
        else:
            thanks = self._("Thank you for confirming! See you soon.")
        self._note(thanks + "\n" + self.words.visit(confirmed))
        self.state = self.state.restart(Screen.MENU)

    async def _reschedule_visit(self, visit: Booking) -> None:
        cutoff = self.catalog.salon.policies.customer_reschedule_cutoff
        if self._too_late(visit, cutoff, "move"):
            self._open(visit.id)
        else:
            self._start_move(visit)

    async def _cancel_visit(self, visit: Booking) -> None:
        """Show the cancel confirmation: one tap more, so a stray tap never cancels."""
        self._open(visit.id)
        if not self._too_late(visit, self.catalog.salon.policies.customer_cancel_cutoff, "cancel"):
            self._go(Screen.CANCEL)


def _on_the_visit(act: Callable[[Conversation, Booking], Awaitable[None]]) -> Handler:
    """A visit button's handler: the visit its argument names, if it can still be acted on
    as the button meant (else the customer is told why), then ``act`` on it."""

    async def handle(conversation: Conversation, arg: str) -> bool:
        if (ref := _visit_ref(arg)) is None:
            return False
        visit = await conversation._visit_named(*ref)
        if visit is not None:
            await act(conversation, visit)
        return True

    return handle


def _visit_ref(arg: str) -> tuple[int, int] | None:
    """A visit button's argument as (booking id, version), if exactly as
    ``core.conversation.reminders.visit_arg`` writes it."""
    booking_text, _, version_text = arg.partition(".")
    booking_id, version = small_number(booking_text), small_number(version_text)
    if booking_id is None or version is None:
        return None
    if (str(booking_id), str(version)) != (booking_text, version_text):
        return None
    return booking_id, version


# -- the screens, one row each ------------------------------------------------------------

Handler = Callable[[Conversation, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Page:
    """One screen: the ``Screens`` method that draws it, what its choices do, where Back
    leads (None: it offers no Back), and whether it is part of booking (``/cancel`` there
    stops the booking rather than opening the customer's visits).

    A handler gets the choice's argument and answers whether it fit the screen: False, and
    the customer is told the button is from an earlier message, nothing changed. It must
    check the argument against what the screen offers, as any id can be forged.
    """

    draw: Callable[[Screens], Awaitable[Reply]]
    choices: Mapping[Op, Handler] = field(default_factory=dict)
    back: Callable[[Conversation], None] | None = None
    booking_flow: bool = False


def _back_to(screen: Screen) -> Callable[[Conversation], None]:
    """Back to ``screen`` of the same flow, what was chosen so far kept."""
    return lambda conversation: conversation._go(screen)


PAGES: Mapping[Screen, Page] = {
    Screen.MENU: Page(Screens.menu),
    Screen.HELP: Page(Screens.help),
    Screen.LANGUAGE: Page(
        Screens.language, {Op.LANGUAGE: Conversation._pick_language}, Conversation._to_menu
    ),
    Screen.CATEGORY: Page(
        Screens.category,
        {Op.CATEGORY: Conversation._pick_category},
        Conversation._to_menu,
        booking_flow=True,
    ),
    Screen.SERVICE: Page(
        Screens.service,
        {Op.SERVICE: Conversation._pick_service},
        Conversation._back_from_service,
        booking_flow=True,
    ),
    Screen.STAFF: Page(
        Screens.staff,
        {Op.STAFF: Conversation._pick_staff},
        _back_to(Screen.SERVICE),
        booking_flow=True,
    ),
    Screen.DAY: Page(
        Screens.day,
        {Op.DAY: Conversation._pick_day},
        Conversation._back_from_day,
        booking_flow=True,
    ),
    Screen.TIME: Page(
        Screens.time,
        {Op.TIME: Conversation._pick_time},
        _back_to(Screen.DAY),
        booking_flow=True,
    ),
    Screen.SUMMARY: Page(
        Screens.summary,
        {Op.CONFIRM: Conversation._confirm, Op.QUIT: Conversation._quit},
        _back_to(Screen.TIME),
        booking_flow=True,
    ),
    Screen.TAKEN: Page(
        Screens.taken,
        {Op.ALTERNATIVE: Conversation._pick_alternative},
        _back_to(Screen.TIME),
        booking_flow=True,
    ),
    Screen.BOOKINGS: Page(Screens.bookings, {Op.VISIT: Conversation._open_visit}),
    Screen.VISIT: Page(
        Screens.visit,
        {Op.RESCHEDULE: Conversation._reschedule, Op.ASK_CANCEL: Conversation._ask_cancel},
        Conversation._to_bookings,
    ),
    Screen.CANCEL: Page(Screens.cancel, {Op.CANCEL: Conversation._cancel}, _back_to(Screen.VISIT)),
}


# -- choices valid from any state ---------------------------------------------------------


def _opens(screen: Screen) -> Handler:
    """A choice, valid anywhere and taking no argument, that opens ``screen`` afresh."""

    async def open_screen(conversation: Conversation, arg: str) -> bool:
        if arg:
            return False
        conversation.state = conversation.state.restart(screen)
        return True

    return open_screen


ANYWHERE: Mapping[Anywhere, Handler] = {
    Anywhere.BOOK: Conversation._book_anywhere,
    Anywhere.MY_BOOKINGS: _opens(Screen.BOOKINGS),
    Anywhere.LANGUAGE: _opens(Screen.LANGUAGE),
    Anywhere.HELP: _opens(Screen.HELP),
    Anywhere.MENU: _opens(Screen.MENU),
    Anywhere.CONFIRM_VISIT: _on_the_visit(Conversation._confirm_visit),
    Anywhere.RESCHEDULE_VISIT: _on_the_visit(Conversation._reschedule_visit),
    Anywhere.CANCEL_VISIT: _on_the_visit(Conversation._cancel_visit),
}
"""What each choice valid from any state does, whatever the chat stands on.

How to add one that must work from any state and any message, as a reminder's "Confirm"
does (``CONFIRM_VISIT``, sent by ``core.conversation.reminders``):

1. name it in ``Anywhere`` (``CONFIRM_VISIT = "cv"``: a new value, never a reused one);
2. send it with ``global_choice(Anywhere.CONFIRM_VISIT, label, f"{booking_id}.{version}")``
   (``core.conversation.state``): the argument says what it acts on, as its id carries no
   generation;
3. add a row here: a handler that parses the argument (``small_number`` for ids),
   checks it against the salon through the desk, acts, notes what happened and moves the
   state (``self.state.restart(Screen.VISIT)`` ...); answering False tells the customer
   the button is stale and changes nothing. A button about a visit is
   ``_on_the_visit(Conversation._confirm_visit)``: the argument is parsed and checked
   (this customer's visit, still at that version, not started) before the method acts on
   it. A new screen it leads to is a ``Screen`` member and a row of ``PAGES``.
"""

_COMMANDS: Mapping[str, Screen] = {
    "my": Screen.BOOKINGS,
    "language": Screen.LANGUAGE,
    "help": Screen.HELP,
    "menu": Screen.MENU,
}
