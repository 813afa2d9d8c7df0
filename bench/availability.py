"""Free slots for one service over 30 days, any of 5 staff, with 200 existing bookings.

Target (issue #2): median under 20 ms. Baseline, measured in the same run: one trivial
query through the same unit of work, so the ratio shows what availability adds on top of
a database round trip on this machine.

    uv run python -m bench.availability
"""

from __future__ import annotations

import asyncio
import random
import statistics
from datetime import timedelta

from sqlalchemy import text

from bench.setup import NOW, bench_salon, summary, timed
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.domain.errors import SlotTaken

RUNS = 60


async def main() -> None:
    async with bench_salon() as app:
        first_day = (NOW + timedelta(days=1)).date()
        query = SlotQuery("cut", first_day, first_day + timedelta(days=29))
        offered = await app.find_slots(query)
        rng = random.Random(7)
        booked = 0
        for slot in rng.sample(offered, len(offered)):
            if booked == 200:
                break
            try:
                await app.bookings.book(
                    "cut", slot.start, Actor.system("bench"), staff_key=slot.staff_key
                )
                booked += 1
            except SlotTaken:
                continue

        async def baseline() -> None:
            async with app.uow() as uow:
                await uow.connection.execute(text("SELECT 1"))

        async def find() -> None:
            await app.find_slots(query)

        await timed(find, 5)  # warm the pool and the catalog cache
        base = await timed(baseline, RUNS)
        slots = await timed(find, RUNS)
        result = await app.find_slots(query)
        print(f"bookings in range: {booked}; slots offered over 30 days: {len(result)}")
        print(f"baseline SELECT 1:  {summary(base)}")
        print(f"free slots 30 days: {summary(slots)}")
        ratio = statistics.median(slots) / statistics.median(base)
        print(f"ratio (median):     {ratio:.1f}x baseline")


if __name__ == "__main__":
    asyncio.run(main())
