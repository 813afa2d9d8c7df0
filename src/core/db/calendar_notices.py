"""The database's notices of calendar changes (migration 0010's trigger): what they say,
and the staff keys their ids stand for.

Every committed insert, update or delete of a booking or a time off is announced on
``CHANNEL`` with a JSON payload ``{"kind": "booking"|"time_off", "old": {...}, "new":
{...}}``, each side ``{"staff": id, "start": iso, "end": iso}`` (no ``old`` for an insert,
no ``new`` for a delete).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import staff

CHANNEL = "salonbot_calendar"
# Postgres caps a payload at 8,000 bytes; ours are about 200. Anything longer is not ours.
MAX_PAYLOAD = 8_000


@dataclass(frozen=True, slots=True)
class NoticedSpan:
    """A staff member's time that a change touched: a booking's or time off's span before
    or after the change."""

    staff_id: int
    start: datetime
    end: datetime


def read_notice(payload: str) -> list[NoticedSpan]:
    """The spans a notice names (the old and the new one); [] for a payload that is not a
    notice of ours (never an exception)."""
    if len(payload) > MAX_PAYLOAD:
        return []
    try:
        notice = json.loads(payload)
    except ValueError:
        return []
    if not isinstance(notice, dict):
        return []
    spans = []
    for side in ("old", "new"):
        span = _span(notice.get(side))
        if span is not None:
            spans.append(span)
    return spans


def _span(side: object) -> NoticedSpan | None:
    if not isinstance(side, dict):
        return None
    staff_id, start, end = side.get("staff"), side.get("start"), side.get("end")
    if not isinstance(staff_id, int) or not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        starts, ends = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return None
    if starts.tzinfo is None or ends.tzinfo is None or ends < starts:
        return None
    return NoticedSpan(staff_id, starts, ends)


async def staff_keys(connection: AsyncConnection, ids: Collection[int]) -> dict[int, str]:
    """The catalog keys of the staff members ``ids`` (those that exist)."""
    if not ids:
        return {}
    rows = await connection.execute(select(staff.c.id, staff.c.key).where(staff.c.id.in_(ids)))
    return {row.id: row.key for row in rows}
