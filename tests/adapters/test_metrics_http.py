"""``/metrics`` over HTTP: behind its bearer token on the main app, open on its own
listener, and the webhooks' latency measured through the real Telegram route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.services.backlog import ReadBacklog
from salonbot.bootstrap import Salonbot
from salonbot.metrics import Metrics
from salonbot.metrics_web import metrics_app
from salonbot.telegram_runtime import build_telegram, make_bot
from salonbot.web import create_web_app
from tests.adapters.telegram_harness import PACING, SECRET
from tests.db_state import rows
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

TOKEN = "metrics-token-0123456789abcdef"
ADA = 5001


@asynccontextmanager
async def salonbot_web(
    app: Salonbot, fake: FakeTelegram, metrics: Metrics, token: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    runtime = build_telegram(
        app,
        make_bot(DEFAULT_TOKEN, fake.base_url),
        webhook_secret=SECRET,
        pacing=PACING,
        poll_interval=0.05,
    )
    web = create_web_app(
        app, runtime.routers, runtime.running, metrics=metrics, metrics_token=token
    )
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salonbot") as client:
        try:
            yield client
        finally:
            await runtime.stop()


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_the_main_app_serves_metrics_only_for_the_bearer_token(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    metrics = Metrics(ReadBacklog(demo.uow, demo.clock))
    async with salonbot_web(demo, fake, metrics, TOKEN) as client:
        refused = [
            await client.get("/metrics"),
            await client.get("/metrics", headers={"Authorization": "Bearer wrong-token-000000"}),
            await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
            await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}),
        ]
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in refused)
    assert all("salonbot_" not in r.text for r in refused)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert samples(answer.text)[("salonbot_backlog_read_ok", frozenset())] == 1
    assert TOKEN not in answer.text


async def test_without_a_token_the_main_app_has_no_metrics(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    metrics = Metrics(ReadBacklog(demo.uow, demo.clock))
    async with salonbot_web(demo, fake, metrics, None) as client:
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert answer.status_code == 404


async def test_the_own_listener_serves_metrics_and_asks_for_the_token_when_one_is_set(
    demo: Salonbot,
) -> None:
    metrics = Metrics(ReadBacklog(demo.uow, demo.clock))
    for token, status in ((None, 200), (TOKEN, 401)):
        transport = httpx.ASGITransport(app=metrics_app(metrics, token))
        async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
            assert (await client.get("/metrics")).status_code == status
            assert (await client.get("/healthz")).status_code == 404


async def test_webhook_requests_are_timed_by_route_and_status(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    metrics = Metrics(ReadBacklog(demo.uow, demo.clock))
    async with salonbot_web(demo, fake, metrics, TOKEN) as client:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        update = fake.text_update(ADA, "/start")
        assert (await client.post("/webhooks/telegram", json=update, headers=headers)).is_success
        forged = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        refused = await client.post("/webhooks/telegram", json=update, headers=forged)
        assert refused.status_code == 401
        assert (await client.get("/healthz")).status_code == 200
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    found = samples(answer.text)
    count = "salonbot_webhook_duration_seconds_count"
    assert found[(count, frozenset({("route", "telegram"), ("status", "200")}))] == 1
    assert found[(count, frozenset({("route", "telegram"), ("status", "401")}))] == 1
    assert {labels for name, labels in found if name == count} == {
        frozenset({("route", "telegram"), ("status", "200")}),
        frozenset({("route", "telegram"), ("status", "401")}),
    }
    every = frozenset({("route", "telegram"), ("status", "200"), ("le", "+Inf")})
    assert found[("salonbot_webhook_duration_seconds_bucket", every)] == 1
    assert await rows(demo.engine, "SELECT channel FROM inbound_events") == [("telegram",)]
