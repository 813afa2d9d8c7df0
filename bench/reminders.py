"""A burst of reminders: 10,000 visits whose reminders fall due in the same minute.

salonbot runs as ``serve`` runs it, in its own process (``bench.telegram_server
reminders``): webhook, inbox workers, outbox dispatcher and the scheduler on one event
loop, its clock moving to the reminders' due minute ``DUE_IN`` seconds after it starts, so
its own tick (every 5 s) claims and queues the 10,000; the fake Bot API (Telegram's
limits) and the chatting customers run in this process. The customers chat all along:
before the reminders fall due (the baseline, same run, same customers), through the tick
and through the drain, each writing, waiting for the reply, reading a second, writing
again. Every reply is timed and filed under the phase it overlapped.

Checked, and the exit status says so (1: failed): every reminder queued once (the server's
log, the notices, the outbox) and sent once (the fake Bot API's record), none missing.

Targets (issue #11): all queued within 10 s, none twice; the chatting customer's reply p99
under 2 s while the burst drains.

    uv run python -m bench.reminders [queue]    (queue: the tick alone, in this process)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import text
from tests.fakes.telegram_api import FakeTelegram, busiest_second

from bench.setup import NOW, bench_salon
from bench.telegram import HEADERS, _update, free_port
from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from core.services.due_notices import QueueDueNotices
from core.services.reminders import replan_upcoming
from salonbot.bootstrap import Salonbot

VISITS = 10_000
STAFF = 100
# Three customers chat at once, a third of a second apart, so that each phase has enough
# replies for a p99 (a lone customer gives about one a second: five in a 5 s tick).
CUSTOMERS = (900_001, 900_002, 900_003)
# Each writes again a second after a reply: Telegram's pace per chat is about one message
# a second, and a customer reads before answering.
THINK = 1.0
# The reminders fall due this long after the server starts (the baseline before them);
# its scheduler ticks every 5 s from its start, so its tick comes up to 5 s later.
DUE_IN = 50.0
# The drain has stopped when no reminder was sent for this long.
STALLED = 30.0

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


@dataclass
class Reply:
    """One customer message and its reply: wall-clock seconds."""

    sent: float
    answered: float

    @property
    def ms(self) -> float:
        return (self.answered - self.sent) * 1000


@dataclass
class Sends:
    """What the fake Bot API delivered, watched as it happens: the customers' replies
    (each wakes the customer waiting for it) and the reminders (wall-clock times)."""

    fake: FakeTelegram
    offset: float = field(default_factory=lambda: time.time() - time.monotonic())
    reminders: list[float] = field(default_factory=list)
    per_chat: Counter[int] = field(default_factory=Counter)
    waiting: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    _seen: int = 0

    async def watch(self) -> None:
        while True:
            for message in self.fake.sent[self._seen :]:
                self._seen += 1
                at = message.at + self.offset
                if message.chat_id in CUSTOMERS:
                    waiter = self.waiting.pop(message.chat_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(at)
                else:
                    self.reminders.append(at)
                    self.per_chat[message.chat_id] += 1
            await asyncio.sleep(0.002)


async def _chat(address: str, sends: Sends, chat: int, replies: list[Reply]) -> None:
    """The customer writes, waits for the reply, reads a second, writes again; forever."""
    async with aiohttp.ClientSession() as session:
        while True:
            answered = asyncio.get_running_loop().create_future()
            sends.waiting[chat] = answered
            sent = time.time()
            async with session.post(address, data=_update(chat), headers=HEADERS):
                pass
            replies.append(Reply(sent, await answered))
            await asyncio.sleep(THINK)


@contextlib.asynccontextmanager
async def _server(url: str, api_base: str, logs: Path, lags: Path) -> AsyncIterator[str]:
    """``bench.telegram_server reminders`` in its own process, its log in ``logs``."""
    port = free_port()
    with logs.open("w") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.telegram_server",
            "reminders",
            url,
            str(port),
            api_base,
            str(DUE_IN),
            str(lags),
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    address = f"http://127.0.0.1:{port}/webhooks/telegram"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(address):  # any answer: the server is up
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield address
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 60)


@dataclass
class Tick:
    """The server's tick that queued the burst (wall seconds) and what its log says."""

    due: float
    started: float
    ended: float
    queued: int


def _tick(logs: Path) -> Tick:
    lines = [json.loads(line) for line in logs.read_text().splitlines() if line.startswith("{")]
    due = next(line["wall"] for line in lines if line["event"] == "reminders fall due")
    queued = sum(line["queued"] for line in lines if line["event"] == "notices decided")
    decided = next(i for i, line in enumerate(lines) if line["event"] == "notices decided")
    started = next(
        line["wall"] for line in reversed(lines[:decided]) if line["event"] == "tick started"
    )
    ended = next(line["wall"] for line in lines[decided:] if line["event"] == "tick ended")
    return Tick(due, started, ended, queued)


async def _database_checks(app: Salonbot) -> list[str]:
    """What the database says is wrong: each visit's reminder queued and sent exactly once."""
    async with app.engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM scheduled_notices),"
                    " (SELECT count(*) FROM scheduled_notices WHERE status = 'queued'),"
                    " (SELECT count(DISTINCT booking_id) FROM scheduled_notices"
                    "   WHERE status = 'queued'),"
                    " (SELECT count(*) FROM outbound_messages WHERE priority = 1),"
                    " (SELECT count(DISTINCT booking_id) FROM outbound_messages"
                    "   WHERE priority = 1),"
                    " (SELECT count(*) FROM outbound_messages"
                    "   WHERE priority = 1 AND status = 'sent')"
                )
            )
        ).one()
    named = zip(
        (
            "notices",
            "notices queued",
            "visits with a queued notice",
            "reminders in the outbox",
            "visits with a reminder in the outbox",
            "reminders recorded sent",
        ),
        row,
        strict=True,
    )
    return [f"{name}: {count:,}, not {VISITS:,}" for name, count in named if count != VISITS]


def _sent_checks(sends: Sends) -> list[str]:
    """What the fake Bot API says is wrong: one reminder to each visit's chat, no other."""
    expected = {50_000 + i for i in range(VISITS)}
    twice = sum(1 for count in sends.per_chat.values() if count > 1)
    missing = len(expected - sends.per_chat.keys())
    stray = len(sends.per_chat.keys() - expected)
    return [
        f"{what}: {count:,}"
        for what, count in (
            ("chats sent a reminder more than once", twice),
            ("chats sent no reminder", missing),
            ("reminders to a chat without a visit", stray),
        )
        if count
    ]


def _summary(replies: list[Reply]) -> str:
    if not replies:
        return "no replies"
    ordered = sorted(r.ms for r in replies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms"
        f"  max {ordered[-1]:7.1f} ms  (n={len(ordered)})"
    )


def _lag(lags: list[tuple[float, float]], start: float, end: float) -> str:
    inside = sorted(lag * 1000 for at, lag in lags if start <= at <= end)
    if not inside:
        return "no samples"
    p99 = inside[min(len(inside) - 1, int(0.99 * len(inside)))]
    return f"p99 {p99:7.1f} ms  max {inside[-1]:7.1f} ms"


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


async def _drained(sends: Sends) -> None:
    """Until every reminder is sent, or none was sent for ``STALLED`` seconds once they
    started (or none at all a minute after the scheduler's tick was due)."""
    last, count = time.monotonic() + DUE_IN + 60, 0
    while len(sends.reminders) < VISITS and time.monotonic() - last < STALLED:
        await asyncio.sleep(0.5)
        if len(sends.reminders) != count:
            last, count = time.monotonic(), len(sends.reminders)


async def _queue_only() -> int:
    async with bench_salon(pool_size=10) as app:
        planning = await _visits(app)
        started = time.perf_counter()
        counts = await QueueDueNotices(app.uow, app.clock, app.catalogs).run()
        queueing = time.perf_counter() - started
        failures = [f for f in await _database_checks(app) if "sent" not in f]
    print(
        f"planning {planning:6.2f} s, queueing {counts.queued:,} in {queueing:6.2f} s;"
        f" checks: {'; '.join(failures) or 'passed'}"
    )
    return 1 if failures else 0


async def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="salonbot-bench-reminders-"))
    logs, lag_file = scratch / "server.log", scratch / "lags.json"
    async with bench_salon(pool_size=10) as app, FakeTelegram(max_poll_seconds=1) as fake:
        planning = await _visits(app)
        url = app.engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
        sends = Sends(fake)
        replies: dict[int, list[Reply]] = {chat: [] for chat in CUSTOMERS}
        async with (
            _server(url, fake.base_url, logs, lag_file) as address,
            asyncio.TaskGroup() as tg,
        ):
            watcher = tg.create_task(sends.watch())
            chats = []
            for chat in CUSTOMERS:
                chats.append(tg.create_task(_chat(address, sends, chat, replies[chat])))
                await asyncio.sleep(THINK / len(CUSTOMERS))
            await _drained(sends)
            await asyncio.sleep(3)  # a reminder sent twice would come now
            for task in [*chats, watcher]:
                task.cancel()
        failures = await _database_checks(app)
    failures += _sent_checks(sends)
    tick = _tick(logs)
    if tick.queued != VISITS:
        failures.append(f"the server's log: {tick.queued:,} queued, not {VISITS:,}")
    lags = [
        (float(at), float(lag)) for at, lag in map(str.split, lag_file.read_text().splitlines())
    ]
    drain_end = max(sends.reminders, default=tick.ended)
    # The first contact of each customer (the welcome) is not measured.
    measured = [r for chat in CUSTOMERS for r in replies[chat][1:]]
    baseline = [r for r in measured if r.answered < tick.started]
    during_tick = [r for r in measured if r.sent <= tick.ended and r.answered >= tick.started]
    during_drain = [r for r in measured if tick.ended < r.sent <= drain_end]
    limited = fake.requests["sendMessage"] - len(fake.sent)
    print(
        "\n".join(
            [
                f"planning  {VISITS:,} visits (catalog load's replan): {planning:6.2f} s",
                f"queueing  the server's tick: {tick.queued:,} queued in"
                f" {tick.ended - tick.started:6.2f} s; all queued {tick.ended - tick.due:5.1f} s"
                f" after they fell due (the tick came {tick.started - tick.due:4.1f} s after)",
                f"drain     {len(sends.reminders):,} reminders sent at"
                f" {_rate(sends.reminders):4.1f}/s in {drain_end - tick.ended:5.1f} s after"
                f" the tick; busiest second {busiest_second(sends.reminders)}, 429s: {limited}",
                f"reply     baseline      {_summary(baseline)}",
                f"reply     during tick   {_summary(during_tick)}",
                f"reply     during drain  {_summary(during_drain)}",
                f"loop lag  baseline      {_lag(lags, 0, tick.started)}",
                f"loop lag  during tick   {_lag(lags, tick.started, tick.ended)}",
                f"loop lag  during drain  {_lag(lags, tick.ended, drain_end)}",
                "checks    "
                + (
                    "; ".join(failures)
                    if failures
                    else "passed: every reminder queued once and sent once, none missing"
                ),
            ]
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_queue_only() if sys.argv[1:] == ["queue"] else main()))
