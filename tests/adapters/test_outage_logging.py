"""A database outage is one story in the log, not a flood: however many webhook requests
it refuses and however often the inbox workers and the outbox dispatcher poll meanwhile,
each part writes one error line with the cause when it starts and one line when it ends
(with how long it lasted and how many calls failed), never a traceback per failure.

The outage is real: salonbot reaches the test's Postgres through a TCP link the test cuts
(open connections break, new ones are refused) and restores, or another session holds a
table locked. Storing events and keeping delivery reports are told apart: one failing
while the other works is one story, not a line per request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from core.services.outage import Outage
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from tests.adapters.telegram_harness import MONDAY_MORNING, eventually, serving
from tests.adapters.whatsapp_webhook import Webhook, whatsapp_webhook
from tests.catalog_cases import DEMO_TEXT
from tests.fakes.clock import RunningClock
from tests.fakes.tcp_proxy import CuttableLink, link_target, through
from tests.fakes.telegram_api import FakeTelegram
from tests.locks import locked

REFUSED = 20


@pytest.fixture
async def link(database_url: str, clean_engine: AsyncEngine) -> AsyncIterator[CuttableLink]:
    async with CuttableLink(*link_target(database_url)) as cuttable:
        yield cuttable


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
    engine = make_engine(through(database_url, link), pool_size=4)
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


ROUNDS = 3


async def test_stored_messages_and_delivery_reports_each_tell_their_own_outage(
    clean_engine: AsyncEngine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = Salonbot(clean_engine)
    async with whatsapp_webhook(app) as webhook:
        caplog.clear()
        # Messages cannot be stored; reports are kept; some notifications carry neither.
        async with locked(database_url, "inbound_events"):
            for n in range(ROUNDS):
                reports = await webhook.post(webhook.statuses(f"wamid.s{n}"))
                assert reports.status_code == 200, reports.text
                messages = await webhook.post(webhook.messages(("4915", f"hi {n}")))
                assert messages.status_code == 503
                assert (await webhook.post(webhook.meta.envelope([]))).status_code == 200
        await eventually(lambda: _stored_now(webhook))

    records = [r for r in caplog.records if r.name.startswith("salonbot")]
    [down] = _lines(caplog, "webhooks: storing", "unavailable")
    [up] = _lines(caplog, "webhooks: storing", "available again")
    assert getattr(up, "failures", 0) == ROUNDS
    assert not [r for r in records if r.message.startswith("webhooks: delivery reports")]
    # O(1): the outage and its end, not a line (or two) per request.
    assert [r for r in records if r.levelno >= logging.WARNING] == [down, up]


async def _stored_now(webhook: Webhook) -> bool:
    answer = await webhook.post(webhook.messages(("4915", "hi again")))
    return answer.status_code == 200
