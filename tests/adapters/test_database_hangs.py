"""A database that hangs (not down: a lock in the way, a frozen server) answers webhook
requests and ``/readyz`` with 503 within the bound, and loses or doubles nothing: the
redelivery of a refused update is stored once and handled once.

The hang is a real one on the real server: another session holds an ``ACCESS EXCLUSIVE``
lock that the store's insert (or the readiness query) must wait for. The bounds asserted
here are generous functional checks (the answer comes, not a minute later); speed is
measured in ``bench/``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.adapters.telegram_harness import Salon, demo_app, eventually, serving
from tests.fakes.telegram_api import FakeTelegram

ADA = 5001
WITHIN = 5.0  # seconds: the bound is about 2 s; a generous margin for a busy machine


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def demo(clean_engine: AsyncEngine) -> Salonbot:
    return await demo_app(clean_engine)


@asynccontextmanager
async def locked(database_url: str, table: str) -> AsyncIterator[None]:
    """Another session holds ``table`` locked against everyone until the block ends."""
    connection = await asyncpg.connect(database_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def _timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    async with asyncio.timeout(3 * WITHIN):  # a hang fails the test instead of stalling it
        response = await request
    return response, time.monotonic() - started


async def test_a_hanging_store_answers_503_in_time_and_the_redelivery_is_handled_once(
    demo: Salonbot, fake: FakeTelegram, database_url: str
) -> None:
    update = fake.text_update(ADA, "/start")
    async with serving(demo, fake) as salon:
        async with locked(database_url, "inbound_events"):
            refused, took = await _timed(salon.post(update))
            assert refused.status_code == 503, refused.text
            assert took < WITHIN
            assert refused.json()["ok"] is False
        # The lock is gone: Telegram delivers the same update again.
        again = await salon.post(update)
        assert again.status_code == 200, again.text

        await eventually(lambda: len(salon.to(ADA)) == 1)
        await _settled(salon)
        assert await salon.rows("SELECT status, attempts FROM inbound_events") == [("done", 1)]
        assert await salon.rows("SELECT count(*) FROM outbound_messages") == [(1,)]
    assert len(fake.messages_to(ADA)) == 1


async def _settled(salon: Salon) -> None:
    """Until nothing is pending in the inbox or the outbox."""
    pending = (
        "SELECT (SELECT count(*) FROM inbound_events WHERE status = 'pending')"
        " + (SELECT count(*) FROM outbound_messages WHERE status = 'pending')"
    )
    await eventually(lambda: _none(salon, pending))


async def _none(salon: Salon, sql: str) -> bool:
    return await salon.rows(sql) == [(0,)]


async def test_readiness_answers_503_in_time_while_the_database_hangs(
    demo: Salonbot, fake: FakeTelegram, database_url: str
) -> None:
    async with serving(demo, fake) as salon:
        assert (await salon.client.get("/readyz")).status_code == 200
        async with locked(database_url, "alembic_version"):
            first, took = await _timed(salon.client.get("/readyz"))
            assert first.status_code == 503
            assert first.json()["checks"]["database"] is False
            assert took < WITHIN
            # A second probe shares the look still hanging, and is bounded too.
            second, took = await _timed(salon.client.get("/readyz"))
            assert second.status_code == 503
            assert took < WITHIN
        ready = await eventually(lambda: _ready(salon))
        assert ready.json()["checks"] == {"database": True, "migrations": True, "workers": True}


async def _ready(salon: Salon) -> httpx.Response | None:
    response = await salon.client.get("/readyz")
    return response if response.status_code == 200 else None


@asynccontextmanager
async def frozen_server() -> AsyncIterator[str]:
    """A Postgres URL whose server takes connections and never answers (as a server
    stopped with SIGSTOP does: the kernel still completes the handshake)."""
    held: list[asyncio.StreamWriter] = []

    async def never_answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/frozen"
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


async def test_a_frozen_server_gets_webhooks_and_readiness_answered_503_in_time(
    fake: FakeTelegram,
) -> None:
    from salonbot.database import make_engine

    async with frozen_server() as url:
        frozen = Salonbot(make_engine(url, pool_size=2))
        async with serving(frozen, fake, start=False) as salon:
            stored, took_store = await _timed(salon.post(fake.text_update(ADA, "/start")))
            ready, took_ready = await _timed(salon.client.get("/readyz"))
        await frozen.close()
    assert (stored.status_code, ready.status_code) == (503, 503)
    assert took_store < WITHIN
    assert took_ready < WITHIN


async def test_a_whatsapp_notification_waiting_on_a_hanging_database_gets_503_in_time(
    demo: Salonbot, database_url: str
) -> None:
    from salonbot.runtime import Runtime
    from salonbot.whatsapp_runtime import add_whatsapp
    from tests.fakes.whatsapp_api import FakeWhatsApp

    meta = FakeWhatsApp()  # only its payload builders and signing: nothing is served
    body = meta.envelope([meta.text_message("491511111111", "hi")])
    stamp = str(int(time.time()))
    body["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": "wamid.unknown", "status": "delivered", "timestamp": stamp, "recipient_id": "4915"}
    ]
    raw = meta.encode(body)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw)}
    runtime = Runtime(demo)
    add_whatsapp(
        runtime,
        api_base="http://127.0.0.1:9",
        phone_number_id=meta.phone_number_id,
        token=meta.token,
        app_secret=meta.app_secret,
        verify_token="verify-me",
    )
    web = create_web_app(demo, runtime.routers, runtime.running)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salonbot") as client:
        # The message is stored at once; keeping the delivery report waits on the lock.
        async with locked(database_url, "outbound_messages"):
            refused, took = await _timed(
                client.post("/webhooks/whatsapp", content=raw, headers=headers)
            )
        assert refused.status_code == 503
        assert took < WITHIN
        again = await client.post("/webhooks/whatsapp", content=raw, headers=headers)
        assert again.status_code == 200
    await runtime.stop()
    async with demo.engine.connect() as connection:
        stored = await connection.scalar(text("SELECT count(*) FROM inbound_events"))
        kept = await connection.scalar(text("SELECT count(*) FROM early_delivery_reports"))
    assert stored == 1
    # Not lost. (The refused request keeps it once the lock goes, and the redelivery may
    # keep it again: early reports have no unique key, and are applied alike.)
    assert kept >= 1
