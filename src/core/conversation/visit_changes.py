"""What a customer is told in their chat when the salon changes their visit: moved, or
cancelled (with the salon's reason).

Pure rendering, in the customer's language (``core.services.customer_notices`` picks who
is told and queues it). Like the reminders, each message fits every channel without the
channel's help, and its buttons are choices valid from any state: Confirm, Reschedule and
Cancel act on the visit as it now is (its version), Book again starts a new booking.
"""

from __future__ import annotations

from core.conversation.capacity import shorten
from core.conversation.contract import Anywhere
from core.conversation.messages import Reply
from core.conversation.reminders import LABEL_LIMIT, TEXT_LIMIT, visit_choices, when
from core.conversation.state import global_choice
from core.conversation.words import Words
from core.domain.booking import Booking
from core.domain.catalog import Catalog


def moved_reply(catalog: Catalog, language: str, before: Booking, after: Booking) -> Reply:
    """The salon moved the customer's visit from ``before`` to ``after``; they are asked to
    confirm the new time, or change it."""
    words = Words(catalog, language)
    _ = words._
    opening = _("%(salon)s has moved your visit of %(when)s. The new time:") % {
        "salon": catalog.salon.name,
        "when": when(words, before),
    }
    question = _("Please confirm that the new time suits you, or change your visit below.")
    text = _body(words, opening, after, question)
    return Reply(text, visit_choices(words, after), _("Choose"))


def cancelled_reply(catalog: Catalog, language: str, booking: Booking, reason: str) -> Reply:
    """The salon cancelled the customer's visit, for ``reason`` (may be empty)."""
    words = Words(catalog, language)
    _ = words._
    opening = _("%(salon)s has cancelled your visit:") % {"salon": catalog.salon.name}
    closing = _("We are sorry. You can book another time below.")
    if reason:
        closing = _("Reason: %(reason)s") % {"reason": reason} + "\n\n" + closing
    book = global_choice(Anywhere.BOOK, shorten(_("Book again"), LABEL_LIMIT))
    return Reply(_body(words, opening, booking, closing), (book,), _("Choose"))


def _body(words: Words, opening: str, booking: Booking, closing: str = "") -> str:
    """The opening, the visit's details and the closing, within the smallest channel's
    limit: what does not fit is cut from the end (the opening always shows)."""
    details = words.visit(booking)
    if contacts := words.contacts():
        details += "\n\n" + contacts
    tail = "\n\n" + closing if closing else ""
    room = TEXT_LIMIT - len(opening) - 1
    return opening + "\n" + shorten(details + tail, room)
