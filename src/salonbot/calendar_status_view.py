"""``salonbot google status`` as text: one line per staff member's calendar, doctor-style
(``ok`` or ``needs attention``, then what is known), ages relative to now, instants in UTC."""

from __future__ import annotations

from datetime import datetime

from core.db.calendar_health_repository import Waiting
from core.services.calendar_status import CalendarStatus


def render_status(status: CalendarStatus, now: datetime) -> str:
    health = status.health
    verdict = "needs attention" if status.needs_attention else "ok"
    facts = [_read_back(status, now), _channel(status, now), _pushes(status, now), _alerts(status)]
    where = status.calendar_id if status.linked else f"{status.calendar_id} (not in the catalog)"
    return f"{health.staff_key}  {where}  {verdict}: " + "; ".join(facts)


def _read_back(status: CalendarStatus, now: datetime) -> str:
    health = status.health
    last = (
        "never read back"
        if health.synced_at is None
        else f"read back {_age(health.synced_at, now)}"
    )
    if not health.sync_failures:
        return last
    return f"reading back failed {health.sync_failures}x in a row ({health.sync_error}), {last}"


def _channel(status: CalendarStatus, now: datetime) -> str:
    expires = status.health.channel_expires_at
    if expires is None:
        return "no push channel"
    when = f"{expires.astimezone(now.tzinfo):%Y-%m-%d %H:%M} UTC"
    return f"push channel until {when}" if expires > now else f"push channel expired {when}"


def _pushes(status: CalendarStatus, now: datetime) -> str:
    health = status.health
    if not (health.open.count or health.parked.count):
        return "pushes: none waiting"
    parts = [
        _waiting(health.open, "waiting", now),
        _waiting(health.failing, "failing", now),
        _waiting(health.parked, "parked", now),
    ]
    return "pushes: " + ", ".join(part for part in parts if part)


def _waiting(waiting: Waiting, what: str, now: datetime) -> str:
    if not waiting.count:
        return ""
    oldest = "" if waiting.oldest is None else f" (oldest {_age(waiting.oldest, now, ago=False)})"
    return f"{waiting.count} {what}{oldest}"


def _alerts(status: CalendarStatus) -> str:
    count = status.health.alerts
    return "no open alerts" if not count else f"{count} open alert{'s' if count > 1 else ''}"


def _age(moment: datetime, now: datetime, *, ago: bool = True) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds // size} {unit}"
            break
    else:
        text = f"{seconds} s"
    return f"{text} ago" if ago else text
