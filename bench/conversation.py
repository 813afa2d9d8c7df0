"""The cost of one conversation step (``converse``: one transaction, reply in the outbox).

A customer books through the whole dialogue, ROUNDS times, each in a new chat: menu, the
service list, staff, the day list (the heaviest screen: free slots over the next 90 days),
the times of a day, the summary (takes a hold) and the confirmation. Medians per step.
Baseline in the same run: the free-slots use case over 30 days, what a screen of days
costs at the least, and ``SELECT 1`` in a unit of work.

    uv run python -m bench.conversation
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import text

from adapters.terminal.chat import CAPACITY
from bench.setup import NOW, bench_salon, summary, timed
from core.conversation.messages import ChatContact, Chosen, Command, Inbound, Reply
from core.domain.availability import SlotQuery

ROUNDS = 20
# Each step is named by the screen its reply draws.
STEPS = ["menu", "services", "staff", "days (90)", "times", "summary+hold", "booked"]


async def main() -> None:
    async with bench_salon() as app:
        samples: dict[str, list[float]] = defaultdict(list)
        for round_number in range(ROUNDS):
            contact = ChatContact("bench", f"chat-{round_number}", f"user-{round_number}")
            reply: Reply | None = None
            for step in STEPS:
                inbound: Inbound
                if step == "menu":
                    inbound = Command("start")
                elif step == "services":
                    inbound = Chosen("book")
                else:
                    assert reply is not None
                    # The first choice: the service, "any", the first day, the first time,
                    # Confirm. Later rounds find earlier rounds' bookings in the way.
                    inbound = Chosen(reply.choices[0].id)
                started = time.perf_counter()
                [reply] = await app.converse(contact, inbound, CAPACITY)
                samples[step].append((time.perf_counter() - started) * 1000)
            assert reply is not None
            assert reply.text.startswith("Booked!"), reply.text

        first_day = (NOW + timedelta(days=1)).date()
        query = SlotQuery("cut", first_day, first_day + timedelta(days=29))

        async def select_one() -> None:
            async with app.uow() as uow:
                await uow.connection.execute(text("SELECT 1"))

        slots = await timed(lambda: app.find_slots(query), ROUNDS)
        floor = await timed(select_one, ROUNDS)

    for step in STEPS:
        print(f"{step:<14} {summary(samples[step])}")
    print(f"{'slots 30 days':<14} {summary(slots)}  (baseline)")
    print(f"{'SELECT 1':<14} {summary(floor)}  (baseline)")


if __name__ == "__main__":
    asyncio.run(main())
