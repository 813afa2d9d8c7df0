"""A burst of reminders: 10,000 visits whose reminders fall due in the same minute.

Part one: the scheduler's tick (``QueueDueNotices``) claims and queues them all; timed,
then checked (every reminder queued, each exactly once, one outbox message each).
Part two: salonbot runs as ``serve`` does (``bench.telegram_server full``: webhook, inbox
workers, outbox dispatcher) against the fake Bot API while the burst drains at Telegram's
limit; one customer chats with the bot all along and each of their replies is timed.
Baseline in the same run: the same customer, the same server, before the burst.

Target (issue #11): all queued within 10 s, none twice; the chatting customer's reply p99
under 2 s during the drain.

    uv run python -m bench.reminders [queue]    (queue: part one only)
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta

import aiohttp
from sqlalchemy import text
from tests.fakes.telegram_api import FakeTelegram, busiest_second

from bench.setup import NOW, bench_salon
from bench.telegram import HEADERS, _update, percentiles, server
from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from core.services.due_notices import QueueDueNotices
from core.services.reminders import replan_upcoming
from salonbot.bootstrap import Salonbot

VISITS = 10_000
STAFF = 100
CUSTOMER_CHAT = 900_001
SAMPLES = 30
# The customer writes again a second after each reply: Telegram's pace per chat is about
# one message a second, and a customer reads before answering.
THINK = 1.0

# Visits on Tuesday; each reminder is due on Monday at 06:59 local, a minute before the
# benchmark's clock (Monday 07:00 local): all 10,000 fall due in the same minute.
CATALOG = """
salon: {name: Bench, timezone: Europe/Berlin, languages: [en], currency: EUR}
policies: {min_notice: 1h, booking_horizon: 90d, slot_step: 5m}
services:
  - {id: cut, name: {en: Cut}, duration: 5m, price: 30}
reminders:
  rules:
    - day_before_at: "06:59"
  ask_to_confirm: true
staff:
""" + "".join(
    f'  - {{id: s{i}, name: Stylist {i}, services: [cut], hours: {{tue: ["08:00-18:00"]}}}}\n'
    for i in range(1, STAFF + 1)
)

_VISITS_SQL = f"""
INSERT INTO customers (name, language, channel, external_id, created_at)
SELECT 'Guest ' || i, 'en', 'telegram', (50000 + i)::text, :now
  FROM generate_series(0, {VISITS - 1}) AS i;
INSERT INTO conversations (channel, chat_id, customer_id, state, version, updated_at)
SELECT channel, external_id, id, '{{}}'::jsonb, 1, :now FROM customers;
INSERT INTO bookings (customer_id, service_id, staff_id, starts_at, ends_at, blocked_from,
                      blocked_until, status, price, created_at, updated_at)
SELECT c.id, (SELECT id FROM services WHERE key = 'cut'),
       (SELECT id FROM staff WHERE key = 's' || ((c.rn - 1) / {VISITS // STAFF} + 1)),
       v.starts_at, v.starts_at + interval '5 minutes', v.starts_at,
       v.starts_at + interval '5 minutes', 'confirmed', 30, :now, :now
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM customers) AS c,
       LATERAL (SELECT timestamptz '2026-12-08 07:00+00'
                       + ((c.rn - 1) % {VISITS // STAFF}) * interval '5 minutes' AS starts_at) v;
"""


async def _visits(app: Salonbot) -> float:
    """10,000 confirmed visits of as many customers, each with a Telegram chat, planned by
    the catalog load's replanning (as if the catalog was loaded the day before); seconds
    the planning took."""
    document, catalog = load_catalog_text(CATALOG)
    await load_catalog(app.uow, app.clock, document)
    async with app.engine.begin() as connection:
        for statement in filter(str.strip, _VISITS_SQL.split(";")):
            await connection.execute(text(statement), {"now": NOW - timedelta(days=2)})
    started = time.perf_counter()
    async with app.uow() as uow:
        await replan_upcoming(uow.connection, catalog, NOW - timedelta(days=1))
        await uow.commit()
    return time.perf_counter() - started


async def _checks(app: Salonbot) -> tuple[int, int, int, int]:
    """(notices queued, bulk outbox messages, distinct visits messaged, notices pending)."""
    async with app.engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM scheduled_notices WHERE status = 'queued'),"
                    " (SELECT count(*) FROM outbound_messages WHERE priority = 1),"
                    " (SELECT count(DISTINCT booking_id) FROM outbound_messages"
                    "   WHERE priority = 1),"
                    " (SELECT count(*) FROM scheduled_notices WHERE status = 'pending')"
                )
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def _chat(address: str, fake: FakeTelegram, samples: int) -> list[float]:
    """The customer writes, waits for the reply, reads a second, writes again."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(samples):
            seen = len(fake.messages_to(CUSTOMER_CHAT))
            started = time.perf_counter()
            async with session.post(address, data=_update(CUSTOMER_CHAT), headers=HEADERS):
                pass
            while len(fake.messages_to(CUSTOMER_CHAT)) == seen:  # noqa: ASYNC110 - no event
                await asyncio.sleep(0.002)
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(THINK)
    return latencies


def _bulk_sent(fake: FakeTelegram) -> list[float]:
    return [m.at for m in fake.sent if m.chat_id != CUSTOMER_CHAT]


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


async def _unsent(app: Salonbot) -> int:
    async with app.engine.connect() as connection:
        waiting = await connection.scalar(
            text("SELECT count(*) FROM outbound_messages WHERE priority = 1 AND status = 'pending'")
        )
    return int(waiting or 0)


async def _queue_only() -> None:
    async with bench_salon(pool_size=10) as app:
        planning = await _visits(app)
        started = time.perf_counter()
        counts = await QueueDueNotices(app.uow, app.clock, app.catalogs).run()
        queueing = time.perf_counter() - started
        queued, messages, distinct, pending = await _checks(app)
    print(
        f"planning {planning:6.2f} s, queueing {counts.queued:,} in {queueing:6.2f} s;"
        f" queued {queued:,}, messages {messages:,}, visits {distinct:,}, pending {pending}"
    )


async def main() -> None:
    async with bench_salon(pool_size=10) as app, FakeTelegram(max_poll_seconds=1) as fake:
        planning = await _visits(app)
        url = app.engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
        async with server("full", url, fake.base_url) as address:
            await _chat(address, fake, 1)  # the customer's first contact: not measured
            quiet = await _chat(address, fake, SAMPLES)

            started = time.perf_counter()
            counts = await QueueDueNotices(app.uow, app.clock, app.catalogs).run()
            queueing = time.perf_counter() - started
            # The fake Bot API runs on this process's loop, which the tick kept busy: the
            # sends that waited meanwhile are stamped together. Pacing is judged after it.
            queued_at = time.monotonic()

            burst = await _chat(address, fake, SAMPLES)
            bulk = _bulk_sent(fake)
            after = [m.at for m in fake.sent if m.at > queued_at]
            unsent = await _unsent(app)
        queued, messages, distinct, pending = await _checks(app)
    limited = fake.requests["sendMessage"] - len(fake.sent)
    print(
        "\n".join(
            [
                f"planning  {VISITS:,} visits (catalog load's replan): {planning:6.2f} s",
                f"queueing  {counts.queued:,} reminders due in one minute: {queueing:6.2f} s"
                f"  ({counts.queued / queueing:,.0f}/s)",
                f"check     queued {queued:,}, bulk messages {messages:,}, visits messaged"
                f" {distinct:,}, still pending {pending}",
                f"drain     {len(bulk):,} reminders sent at {_rate(bulk):4.1f}/s, {unsent:,}"
                f" still waiting when the customer's last reply came; busiest second"
                f" {busiest_second(after)} after the tick ({busiest_second(bulk)} over the"
                f" whole run), 429s: {limited}",
                f"reply     no burst      {percentiles(quiet)}",
                f"reply     during burst  {percentiles(burst)}",
            ]
        )
    )


if __name__ == "__main__":
    asyncio.run(_queue_only() if sys.argv[1:] == ["queue"] else main())
