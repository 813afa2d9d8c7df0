"""What a catalog file may be: bounds generous for any real salon, small enough that a
broken or hostile file is refused in well under a second instead of exhausting the machine.

The demo salon (``examples/salon.yaml``, 4.8 KB) has 7 services, 3 staff and nesting 9
levels deep; these bounds leave a large salon two orders of magnitude of room.
"""

from __future__ import annotations

from datetime import date, timedelta

MAX_FILE_BYTES = 1_000_000
"""The catalog file's size in bytes (UTF-8)."""

MAX_DEPTH = 20
"""Nesting of mappings and lists; the deepest a catalog needs is 9 (a break of a period)."""

MAX_VALUES = 100_000
"""Values in the document (keys, scalars, lists, mappings) with every alias counted in full."""

MAX_CATEGORIES = 200
MAX_SERVICES = 1_000
MAX_STAFF = 200
MAX_LANGUAGES = 20
MAX_PERIODS_PER_DAY = 12
MAX_BREAKS_PER_PERIOD = 12
MAX_EXCEPTIONS_PER_STAFF = 1_100
"""Three years of dated exceptions, one a day."""

MAX_ID_CHARS = 40
MAX_NAME_CHARS = 200
"""A salon, category, service or staff member's name, in any language."""
MAX_TEXT_CHARS = 500
"""An address or an exception's note."""
MAX_PHONE_CHARS = 50
MAX_LANGUAGE_CODE_CHARS = 35
MAX_REMINDER_RULES = 6
"""Reminders before one visit; more would be nagging, not reminding."""
MAX_CALENDAR_ID_CHARS = 254
"""A staff member's Google Calendar id: an e-mail address or ``…@group.calendar.google.com``."""
MAX_URL_CHARS = 500
"""The follow-up's review link: it must fit one message with the thanks around it."""

FIRST_EXCEPTION_DATE = date(2000, 1, 1)
LAST_EXCEPTION_DATE = date(2099, 12, 31)
"""Dated exceptions lie in this century: a year like 2206 is a typo, and date arithmetic on
the extremes of the calendar (0001-01-01, 9999-12-31) would overflow."""

MAX_BOOKING_HORIZON = timedelta(days=1096)
"""The longest booking horizon (3 years): no slot is ever offered further ahead."""

MAX_PROBLEMS_SHOWN = 50
"""Problems listed in an error message; the rest are counted."""
