"""The names of the conversation's contract: its screens, and what its choices do.

The values are wire format: a stored ``State`` names its screen and mode by them, and a
choice id already sent to a customer carries an operation by its value (see
``core.conversation.state``). Add members freely; never change or reuse a value: an old
button or stored state must keep meaning what it meant, or be answered as stale. An
operation's value is 1-4 lowercase ASCII letters, as choice ids are decoded.
"""

from __future__ import annotations

import enum


class Screen(enum.StrEnum):
    """Where a chat stands; each one is drawn, handled and left by its ``Page``."""

    MENU = "menu"
    HELP = "help"
    LANGUAGE = "language"
    CATEGORY = "category"
    SERVICE = "service"
    STAFF = "staff"
    DAY = "day"
    TIME = "time"
    SUMMARY = "summary"
    TAKEN = "taken"
    BOOKINGS = "bookings"
    VISIT = "visit"
    CANCEL = "cancel"


class Mode(enum.StrEnum):
    """What the booking screens are for."""

    BOOK = "book"  # a new visit
    MOVE = "move"  # an existing one (``State.booking``) to another time


class Op(enum.StrEnum):
    """What a choice of the current screen does; its id carries the screen's generation."""

    PAGE = "p"  # argument: the page number
    BACK = "back"
    LANGUAGE = "l"  # argument: the language code
    CATEGORY = "c"  # argument: the category key
    SERVICE = "s"  # argument: the service key
    STAFF = "m"  # argument: the staff key, or ANY_STAFF
    DAY = "d"  # argument: the local date, YYYYMMDD
    TIME = "t"  # argument: the UTC start, a stamp
    ALTERNATIVE = "a"  # argument: "stamp.staff"
    CONFIRM = "ok"
    QUIT = "quit"
    VISIT = "v"  # argument: the booking id
    RESCHEDULE = "r"
    ASK_CANCEL = "x"
    CANCEL = "xy"


class Anywhere(enum.StrEnum):
    """What a choice valid from any state does: its id carries no generation.

    The main menu's entries, and later the buttons that outlive a conversation (a
    reminder's Confirm, a wait-list offer's Book it), which carry what they act on as
    their argument. ``core.conversation.dialogue`` says how to add one.
    """

    BOOK = "book"
    MY_BOOKINGS = "my"
    LANGUAGE = "lang"
    HELP = "help"
    MENU = "menu"
    # A reminder's buttons; argument: "<booking id>.<version>", the version being bumped by
    # every move of the visit (``core.conversation.reminders.visit_arg``).
    CONFIRM_VISIT = "cv"
    RESCHEDULE_VISIT = "rv"
    CANCEL_VISIT = "cx"
