"""The loop every background worker runs: do one piece of work, and when there is none
(or the database is away) wait for a wake-up or the next poll."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.services.outage import Outage
from core.services.wakeup import Wakeup


async def poll_until_stopped(
    work_one: Callable[[], Awaitable[bool]],
    stopping: asyncio.Event,
    wakeup: Wakeup,
    outage: Outage,
    rest: Callable[[], float],
) -> None:
    """Call ``work_one`` until ``stopping`` is set; it returns False when there was
    nothing to do. A failure (the database went away, say) is told to ``outage`` and
    waited out like an empty turn: the loop never ends on an error. Between empty turns it
    waits up to ``rest()`` seconds, less when ``wakeup`` is notified."""
    while not stopping.is_set():
        try:
            worked = await work_one()
        except Exception as error:
            outage.failed(error)
            worked = False
        else:
            outage.succeeded()
        if not worked and not stopping.is_set():
            await wakeup.wait(rest())
