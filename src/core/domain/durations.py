"""How a duration is written: one spelling for the catalog's canonical form and for every
name built from a duration (a reminder rule's key ``before:24h``).
"""

from __future__ import annotations

from datetime import timedelta


def format_duration(value: timedelta) -> str:
    """Whole hours and minutes, the zero part left out: ``24h``, ``1h30m``, ``45m``, ``0m``.

    Hours, not days, so a key reads the way owners write reminder leads (``24h``, ``48h``);
    seconds are dropped (every duration salonbot reads is whole minutes).
    """
    minutes = int(value.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    hours, minutes = divmod(abs(minutes), 60)
    if not hours:
        return f"{sign}{minutes}m"
    return f"{sign}{hours}h{minutes}m" if minutes else f"{sign}{hours}h"
