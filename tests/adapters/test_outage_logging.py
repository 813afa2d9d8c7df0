"""A database outage is one story in the log, not a flood: however many webhook requests
it refuses and however often the inbox workers and the outbox dispatcher poll meanwhile,
each part writes one error line with the cause when it starts and one line when it ends
(with how long it lasted and how many calls failed), never a traceback per failure.

The outage is real: salonbot reaches the test's Postgres through a TCP link the test cuts
(open connections break, new ones are refused) and restores.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from core.services.outage import Outage
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from tests.adapters.telegram_harness import MONDAY_MORNING, eventually, serving
from tests.catalog_cases import DEMO_TEXT
from tests.fakes.clock import RunningClock
from tests.fakes.tcp_proxy import CuttableLink
from tests.fakes.telegram_api import FakeTelegram

REFUSED = 20


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def link(database_url: str, clean_engine: AsyncEngine) -> AsyncIterator[CuttableLink]:
    parts = urlsplit(database_url)
    port = parts.port or 5432
    # The embedded server is reached through a Unix socket named in the query's ``host``.
    socket_dir = dict(parse_qsl(parts.query)).get("host", "")
    if socket_dir.startswith("/"):
        target = f"{socket_dir}/.s.PGSQL.{port}"
    else:
        target = parts.hostname or "127.0.0.1"
    async with CuttableLink(target, port) as cuttable:
        yield cuttable


def _through(database_url: str, link: CuttableLink) -> str:
    """The database's URL over the link (TCP to the link, whatever the server listens on)."""
    parts = urlsplit(database_url)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{link.port}"
    if parts.password:
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{link.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _lines(caplog: pytest.LogCaptureFixture, part: str, event: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name.startswith("salonbot")
        and r.message.startswith(part)
        and r.message.endswith(f": {event}")
    ]


async def test_an_outage_is_logged_once_then_its_end_with_the_count(
    fake: FakeTelegram,
    link: CuttableLink,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(_through(database_url, link), pool_size=4)
    app = Salonbot(engine, RunningClock(MONDAY_MORNING))
    document, _ = load_catalog_text(DEMO_TEXT)
    await load_catalog(app.uow, app.clock, document)
    async with serving(app, fake) as salon:
        assert (await salon.post(fake.text_update(1, "/start"))).status_code == 200
        await eventually(lambda: len(salon.to(1)) == 1)
        # Telegram has it; salonbot records the send a moment later, in its own commit.
        await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status='sent'"))
        loops: list[Outage] = [
            salon.runtime.workers[0].outage,
            *(dispatcher.outage for dispatcher in salon.runtime.dispatchers),
        ]
        webhooks = salon.runtime.request_bound.outage
        caplog.clear()

        await link.cut()
        for n in range(REFUSED):
            answer = await salon.post(fake.text_update(100 + n, "/start"))
            assert answer.status_code == 503
        # The workers and the dispatcher keep polling meanwhile, failing each time.
        await eventually(lambda: all(outage.failures >= 5 for outage in loops))
        assert webhooks.failures == REFUSED
        await link.restore()

        assert (await salon.post(fake.text_update(2, "/start"))).status_code == 200
        await eventually(lambda: not any(outage.down for outage in [webhooks, *loops]))
        await eventually(lambda: len(salon.to(2)) == 1)
    await app.close()

    records = [r for r in caplog.records if r.name.startswith("salonbot")]
    assert all(r.exc_info is None for r in records)  # no traceback, anywhere
    for what in ("webhooks", "inbox workers", "outbox dispatcher (telegram)"):
        [down] = _lines(caplog, what, "unavailable")
        assert down.levelno == logging.ERROR
        assert getattr(down, "cause", "")  # with the cause, on one line
        assert "\n" not in getattr(down, "cause", "")
        [up] = _lines(caplog, what, "available again")
        assert getattr(up, "failures", 0) >= (REFUSED if what == "webhooks" else 5)
        assert getattr(up, "seconds", -1) >= 0
    # O(1): a handful of lines for the whole outage, not one (or a traceback) per failure.
    assert len([r for r in records if r.levelno >= logging.WARNING]) <= 8
