"""Dates, times, prices and durations in the customer's language and the salon's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_currency

from core.domain.timeline import require_aware
from core.i18n.catalogs import translations


def local_date(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """``Tuesday, 8 December`` / ``вторник, 8 декабря``: the salon-local date of an instant."""
    local = require_aware(moment).astimezone(zone)
    return format_date(local.date(), format="EEEE, d MMMM", locale=language)


def local_time(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """The salon-local time of an instant, as the language writes it (``11:00``, ``11:00 AM``)."""
    local = require_aware(moment).astimezone(zone)
    return format_time(local.time(), format="short", locale=language)


def price(amount: Decimal, currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=language)


def duration(length: timedelta, language: str) -> str:
    """``1 h 30 min`` in words with the language's plural forms (``1 минута``, ``5 минут``)."""
    translate = translations(language)
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(translate.ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours})
    if minutes or not hours:
        parts.append(
            translate.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
        )
    return " ".join(parts)
