"""The Telegram channel under load: webhook ack latency, sustained ingest, end to end with
50 concurrent customers, and outbox throughput, against the fake Bot API.

salonbot runs in its own process (``bench.telegram_server``), the load generator and the
fake Bot API in this one. Baseline in the same run: aiogram's own ``SimpleRequestHandler``
webhook server with a handler that does nothing and stores nothing.

Targets (issue #4): ack p99 under 20 ms at 200 updates/s; sustained durable ingest at
least 1,000 updates/s and at least half the baseline's rate; outbox at least 90% of the
30 messages/s limit with zero 429s.

    uv run python -m bench.telegram [ingest] [e2e] [outbox]    (default: all three)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
from sqlalchemy import text
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, busiest_second

from adapters.telegram.sender import TelegramSender
from bench.setup import NOW, bench_salon
from bench.telegram_server import SECRET
from core.conversation.messages import Choice, Reply
from core.db.outbox_repository import OutboxRepository
from core.services.dispatch import OutboxDispatcher
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.telegram_runtime import make_bot

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
_update_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(chat: int, text_: str = "/start") -> bytes:
    update_id = next(_update_ids)
    message = {
        "message_id": update_id,
        "from": {"id": chat, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        "chat": {"id": chat, "type": "private", "first_name": "Ada"},
        "date": 1_796_000_000,
        "text": text_,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.2f} ms  p99 {p99:7.2f} ms  (n={len(ordered)})"


@contextlib.asynccontextmanager
async def server(
    mode: str, url: str, api_base: str, path: str = "/webhooks/telegram"
) -> AsyncIterator[str]:
    """``bench.telegram_server MODE`` in its own process; the webhook address once it answers."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.telegram_server",
        mode,
        url,
        str(port),
        api_base,
        stderr=subprocess.DEVNULL,
    )
    address = f"http://127.0.0.1:{port}{path}"
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
        await asyncio.wait_for(process.wait(), 30)


async def open_loop(
    address: str,
    rate: float,
    seconds: float,
    bodies: list[bytes] | None = None,
    headers: Callable[[bytes], dict[str, str]] = lambda _: HEADERS,
) -> tuple[list[float], int]:
    """Send ``rate`` updates a second for ``seconds`` (``bodies``, else Telegram updates);
    ack latencies and non-200 answers."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=500)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(at: float, body: bytes) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            started = time.perf_counter()
            async with session.post(address, data=body, headers=headers(body)) as answer:
                await answer.read()
                if answer.status != 200:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

        begin = time.perf_counter() + 0.2
        count = int(rate * seconds)
        sent = bodies or [_update(10_000 + i % 5_000) for i in range(count)]
        await asyncio.gather(*(one(begin + i / rate, sent[i]) for i in range(count)))
    return latencies, errors


async def _closed_loop(
    address: str, clients: int, seconds: float
) -> tuple[float, list[float], int]:
    """As fast as ``clients`` concurrent senders go; acknowledged updates/s, latencies, and
    answers that were not 200 (not counted in the rate)."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def sender(n: int) -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                async with session.post(
                    address, data=_update(20_000 + n), headers=HEADERS
                ) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                        continue
                latencies.append((time.perf_counter() - started) * 1000)

        begin = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(clients)))
        elapsed = time.perf_counter() - begin
    return len(latencies) / elapsed, latencies, errors


async def _clear(app: Salonbot) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE inbound_events, outbound_messages, conversations, customers CASCADE")
        )


async def _end_to_end(address: str, fake: FakeTelegram, users: int) -> list[float]:
    """Each user sends /start, waits for the reply at the fake, 3 times; reply latencies."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def user(chat: int) -> None:
            for _ in range(3):
                seen = len(fake.messages_to(chat))
                started = time.perf_counter()
                async with session.post(address, data=_update(chat), headers=HEADERS):
                    pass
                while len(fake.messages_to(chat)) == seen:  # noqa: ASYNC110 - the fake has no event
                    await asyncio.sleep(0.002)
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(user(900_000 + n) for n in range(users)))
    return latencies


async def _outbox(app: Salonbot, fake: FakeTelegram, chats: int) -> tuple[float, int, int]:
    reply = Reply("Your visit is booked.", (Choice("menu", "Menu"),))
    async with app.uow() as uow:
        repository = OutboxRepository(uow.connection)
        for chat in range(chats):
            await repository.add("telegram", str(30_000 + chat), [reply], NOW)
        await uow.commit()
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    dispatcher = OutboxDispatcher(app.uow, app.clock, TelegramSender(bot), Wakeup())
    before = len(fake.sent)
    begin = time.perf_counter()
    task = asyncio.create_task(dispatcher.run())
    while len(fake.sent) - before < chats:  # noqa: ASYNC110 - the fake has no event
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - begin
    dispatcher.stop()
    await task
    await bot.session.close()
    rate_limited = fake.requests["sendMessage"] - len(fake.sent)
    busiest = busiest_second([m.at for m in fake.sent[before:]])
    return chats / elapsed, rate_limited, busiest


async def main(parts: list[str]) -> None:
    async with bench_salon(pool_size=5) as app, FakeTelegram(max_poll_seconds=1) as fake:
        url = app.engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
        results: list[str] = []
        for mode in ("baseline", "ingest") if "ingest" in parts else ():
            async with server(mode, url, fake.base_url) as address:
                for rate in (200, 1000):
                    latencies, errors = await open_loop(address, rate, 5)
                    results.append(
                        f"{mode:8} ack at {rate:5}/s   {percentiles(latencies)}  non-200: {errors}"
                    )
                sustained, latencies, errors = await _closed_loop(address, 50, 5)
                results.append(
                    f"{mode:8} sustained    {sustained:7.0f} updates/s  {percentiles(latencies)}"
                    f"  non-200: {errors}"
                )
            if mode == "ingest":
                async with app.engine.connect() as connection:
                    stored = await connection.scalar(text("SELECT count(*) FROM inbound_events"))
                results.append(f"ingest   stored durably: {stored} updates")
                await _clear(app)
        if "e2e" in parts:
            async with server("full", url, fake.base_url) as address:
                latencies = await _end_to_end(address, fake, 50)
                results.append(
                    f"full     end to end, 50 users x 3 updates   {percentiles(latencies)}"
                )
            await _clear(app)
        if "outbox" in parts:
            sent_rate, limited, busiest = await _outbox(app, fake, 1000)
            results.append(
                f"outbox   1,000 chats: {sent_rate:5.1f} messages/s, 429s: {limited}, "
                f"busiest second: {busiest}"
            )
    print("\n".join(results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["ingest", "e2e", "outbox"]))
