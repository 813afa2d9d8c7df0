"""Free slots as text, in the salon's local time: for staff at a terminal and for debugging."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from core.domain.availability import Slot, SlotQuery
from core.domain.catalog import Catalog


def render_slots(catalog: Catalog, query: SlotQuery, slots: list[Slot]) -> str:
    zone = catalog.salon.zone
    service = catalog.service(query.service_key)
    language = catalog.salon.default_language
    who = catalog.member(query.staff_key).name if query.staff_key else "any staff"
    lines = [
        f"{service.name(language)} with {who}, {query.first_day} to {query.last_day} ({zone.key})"
    ]
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    if not by_day:
        lines.append("  no free slots")
    for day in sorted(by_day):
        lines.append(f"{day:%a %Y-%m-%d}")
        starts: dict[str, list[str]] = defaultdict(list)
        for slot in by_day[day]:
            local = slot.start.astimezone(zone)
            starts[f"{local:%H:%M} (UTC{local:%z})"].append(catalog.member(slot.staff_key).name)
        for label, names in starts.items():
            lines.append(f"  {label}  {', '.join(names)}")
    return "\n".join(lines)
