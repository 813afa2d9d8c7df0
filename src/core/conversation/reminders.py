"""The messages the salon sends unasked: a visit's reminder and its after-visit follow-up.

Pure rendering: the scheduler (``core.services.due_notices``) picks who gets what and when;
this module only says it, in the customer's language. Both messages fit every channel
without the channel's help (at most 3 choices of at most 20 characters, a text of at most
1,024 characters: WhatsApp's reply buttons, the smallest), and their buttons are choices
valid from any state (``Anywhere``), so a tap days later still means the same visit.
"""

from __future__ import annotations

from core.conversation.capacity import shorten
from core.conversation.contract import Anywhere
from core.conversation.messages import Choice, Form, Reply
from core.conversation.state import global_choice
from core.conversation.words import Words
from core.domain.booking import Booking
from core.domain.catalog import Catalog

# The smallest channel (WhatsApp's reply buttons): a body of 1,024 characters, titles of 20.
TEXT_LIMIT = 1024
LABEL_LIMIT = 20
# A template body parameter is one line of text; keep each short beside the template's text.
PARAM_LIMIT = 120
REMINDER_FORM = "reminder"


def visit_arg(booking: Booking) -> str:
    """What a visit's buttons act on: ``"<booking id>.<version>"``.

    Every move (a new time or staff member) bumps the version: a tap on a reminder of a
    visit that has moved since names an older one and is recognised as such.
    """
    return f"{booking.id}.{booking.version}"


def visit_choices(words: Words, booking: Booking) -> tuple[Choice, Choice, Choice]:
    """Confirm, Reschedule and Cancel for ``booking``, valid from any state."""
    _ = words._
    arg = visit_arg(booking)
    return (
        _choice(Anywhere.CONFIRM_VISIT, _("✅ Confirm"), arg),
        _choice(Anywhere.RESCHEDULE_VISIT, _("Reschedule"), arg),
        _choice(Anywhere.CANCEL_VISIT, _("✖ Cancel visit"), arg),
    )


def confirm_visit_choice(words: Words, booking: Booking) -> Choice:
    """Confirm for ``booking`` as it is now, valid from any state (its visit screen)."""
    return visit_choices(words, booking)[0]


def reminder_reply(
    catalog: Catalog, language: str, booking: Booking, *, ask_to_confirm: bool
) -> Reply:
    """The reminder of ``booking``: service, specialist, local date and time, address.

    Its choices are Confirm (only when ``ask_to_confirm``), Reschedule and Cancel. Its
    ``form`` is the same reminder as the channel's approved ``"reminder"`` form, for a
    customer the channel will not write to freely: the service, the local date and time
    and the specialist as parameters, and always all three buttons' ids as payloads (the
    approved form has three buttons).
    """
    words = Words(catalog, language)
    _ = words._
    opening = _("A reminder of your visit to %(salon)s:") % {"salon": catalog.salon.name}
    if ask_to_confirm:
        question = _("Please confirm that you are coming, or change your visit below.")
    else:
        question = _("If your plans have changed, you can move or cancel your visit below.")
    details = words.visit(booking)
    if contacts := words.contacts():
        details += "\n\n" + contacts
    # Very long names give way in the middle: the opening and the question always show.
    room = TEXT_LIMIT - len(opening) - len(question) - 3
    text = "\n".join([opening, shorten(details, room), "", question])
    confirm, reschedule, cancel = visit_choices(words, booking)
    choices = (confirm, reschedule, cancel) if ask_to_confirm else (reschedule, cancel)
    form = Form(
        REMINDER_FORM,
        language,
        params=(
            _param(words.service_name(booking.service_key)),
            _param(when(words, booking)),
            _param(words.staff_name(booking.staff_key)),
        ),
        payloads=(confirm.id, reschedule.id, cancel.id),
    )
    return Reply(text, choices, _("Choose"), form)


def follow_up_reply(catalog: Catalog, language: str, booking: Booking, review_url: str) -> Reply:
    """Thanks after ``booking``'s visit, the review link when ``review_url`` is set, and
    "Book again"; no form (a follow-up is not worth a template outside the window)."""
    words = Words(catalog, language)
    _ = words._
    lines = [
        _("Thank you for visiting %(salon)s!") % {"salon": catalog.salon.name},
        _("We hope you enjoyed your %(service)s with %(name)s.")
        % {
            "service": words.service_name(booking.service_key),
            "name": words.staff_name(booking.staff_key),
        },
    ]
    link = ""
    if review_url:
        link = "\n\n" + _("We would be glad to read your review:") + "\n" + review_url
    # The link is never cut: the thanks give way when the salon's names are very long.
    text = shorten("\n".join(lines), max(1, TEXT_LIMIT - len(link))) + link
    choices = (_choice(Anywhere.BOOK, _("Book again")),)
    return Reply(text, choices, _("Choose"))


def when(words: Words, booking: Booking) -> str:
    """``Tuesday, 8 December at 10:00``: the visit's local date and time on one line."""
    return words._("%(day)s at %(time)s") % {
        "day": words.day(booking.start),
        "time": words.time(booking.start),
    }


def _choice(op: Anywhere, label: str, arg: str = "") -> Choice:
    return global_choice(op, shorten(label, LABEL_LIMIT), arg)


def _param(text: str) -> str:
    """One line, no runs of spaces (a template parameter refuses newlines, tabs and more
    than 4 spaces in a row), never empty, bounded."""
    return shorten(" ".join(text.split()), PARAM_LIMIT) or "-"
