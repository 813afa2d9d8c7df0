"""Booking throughput on distinct slots, and 50 racers for one slot.

* Throughput: book N distinct slots one after another, then the same with 10 concurrent
  callers, in one process (bookings/s). Baseline in the same run: a transaction that only
  locks one staff row and commits, the floor any double-booking-safe write pays.
* Contention (issue #2 target: all 50 answered within 1 s): 50 concurrent callers for one
  slot, repeated over several rounds; reports the time until the last of the 50 answered.

    uv run python -m bench.booking
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta

from bench.setup import NOW, bench_salon
from core.db.booking_repository import BookingRepository
from core.domain.availability import Slot, SlotQuery
from core.domain.booking import Actor, Booking
from core.domain.errors import SlotTaken

ACTOR = Actor.system("bench")
ROUNDS = 15


async def main() -> None:
    async with bench_salon(pool_size=30) as app:
        first_day = (NOW + timedelta(days=1)).date()
        offered = await app.find_slots(SlotQuery("cut", first_day, first_day + timedelta(days=60)))
        # Non-overlapping slots: one per staff per hour-long block.
        distinct: list[Slot] = []
        last_end: dict[str, datetime] = {}
        for slot in offered:
            if slot.blocked.start >= last_end.get(slot.staff_key, NOW):
                distinct.append(slot)
                last_end[slot.staff_key] = slot.blocked.end

        async def lock_only() -> None:
            async with app.uow() as uow:
                await BookingRepository(uow.connection).lock_staff(["s1"])
                await uow.commit()

        started = time.perf_counter()
        for _ in range(300):
            await lock_only()
        baseline_rate = 300 / (time.perf_counter() - started)

        sequential = distinct[:300]
        started = time.perf_counter()
        for slot in sequential:
            await app.bookings.book("cut", slot.start, ACTOR, staff_key=slot.staff_key)
        sequential_rate = len(sequential) / (time.perf_counter() - started)

        concurrent = distinct[300:900]
        queue: asyncio.Queue[object] = asyncio.Queue()
        for slot in concurrent:
            queue.put_nowait(slot)

        async def worker() -> None:
            while not queue.empty():
                slot = queue.get_nowait()
                await app.bookings.book("cut", slot.start, ACTOR, staff_key=slot.staff_key)  # type: ignore[attr-defined]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(10)))
        concurrent_rate = len(concurrent) / (time.perf_counter() - started)

        print(f"baseline lock+commit:     {baseline_rate:7.0f} tx/s")
        print(
            f"sequential bookings:      {sequential_rate:7.0f} bookings/s "
            f"({sequential_rate / baseline_rate:.2f}x baseline)"
        )
        print(
            f"10 concurrent callers:    {concurrent_rate:7.0f} bookings/s "
            f"({concurrent_rate / baseline_rate:.2f}x baseline)"
        )

        remaining = distinct[900:]
        answered: list[float] = []
        for round_ in range(ROUNDS):
            slot = remaining[round_]
            started = time.perf_counter()
            results = await asyncio.gather(
                *(
                    app.bookings.book("cut", slot.start, ACTOR, staff_key=slot.staff_key)
                    for _ in range(50)
                ),
                return_exceptions=True,
            )
            answered.append((time.perf_counter() - started) * 1000)
            wins = sum(isinstance(r, Booking) for r in results)
            taken = sum(isinstance(r, SlotTaken) for r in results)
            assert (wins, taken) == (1, 49), results
        middle = statistics.median(answered)
        print(
            f"50 racers, one slot:      all answered in median {middle:.0f} ms, "
            f"max {max(answered):.0f} ms over {ROUNDS} rounds (1 booking + 49 SlotTaken each)"
        )


if __name__ == "__main__":
    asyncio.run(main())
