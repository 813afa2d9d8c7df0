"""``salonbot serve`` as a real process against the fake Bot API: polls, answers, reports
ready, logs JSON without secrets, and stops gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.migrate import upgrade_in_thread
from tests.adapters.telegram_harness import eventually
from tests.catalog_cases import DEMO_TEXT
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SALONBOT = Path(sys.executable).parent / "salonbot"
ADA = 5001


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_ready(port: int) -> None:
    """Wait until ``/readyz`` answers 200. One client for all the polls: a new one builds its
    TLS context each time, which cost more CPU than the process under test."""
    async with httpx.AsyncClient(timeout=2) as client:

        async def ready() -> bool:
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/readyz")
            except httpx.HTTPError:
                return False
            return answer.status_code == 200

        # A process that imports aiogram can take a minute to start on a loaded 2-core machine.
        await eventually(ready, within=120)


def _env(url: str, tmp_path: Path, fake: FakeTelegram, port: int, **more: str) -> dict[str, str]:
    """The process environment: this one without a webhook, plus the test's settings."""
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    env.update(
        DATABASE_URL=url,
        SALONBOT_DATA_DIR=str(tmp_path / "data"),
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE=fake.base_url,
        PORT=str(port),
    )
    env.update(more)
    return env


async def _load_demo(env: dict[str, str]) -> None:
    """Migrate and load the demo salon as `salonbot catalog load` does, in this process:
    the CLI's own tests cover the command, these cover `serve`."""
    url = env["DATABASE_URL"]
    await upgrade_in_thread(url)
    app = Salonbot(make_engine(url, pool_size=1))
    try:
        document, _ = load_catalog_text(DEMO_TEXT)
        await load_catalog(app.uow, app.clock, document)
    finally:
        await app.close()


async def test_serve_polls_answers_and_stops_gracefully_on_sigterm(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)  # it runs its own event loop
    port = _free_port()
    async with FakeTelegram() as fake:
        env = _env(url, tmp_path, fake, port)
        await _load_demo(env)
        process = await asyncio.create_subprocess_exec(
            str(SALONBOT),
            "serve",
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            await _wait_ready(port)
            fake.queue_update(fake.text_update(ADA, "/start"))
            await eventually(lambda: fake.messages_to(ADA), within=30)

            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.stderr is not None
        logged = (await process.stderr.read()).decode()

    assert code == 0, logged
    assert fake.messages_to(ADA)[0].text.startswith("Hello, Ada! Welcome to Studio Lumen.")
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    for expected in ("serving", "inbound handled", "outbound sent", "stopping"):
        assert expected in events, events
    handled = next(line for line in lines if line["event"] == "inbound handled")
    assert handled["channel"] == "telegram"
    assert handled["chat"] == str(ADA)
    assert "latency_ms" in handled
    assert DEFAULT_TOKEN not in logged
    assert DEFAULT_TOKEN.split(":")[1] not in logged


async def test_serve_with_a_token_telegram_refuses_says_so_in_one_line(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    async with FakeTelegram() as fake:
        env = _env(url, tmp_path, fake, _free_port(), TELEGRAM_BOT_TOKEN="999:wrong-token")
        run = await asyncio.to_thread(
            subprocess.run,
            [str(SALONBOT), "serve"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "salonbot: TELEGRAM_BOT_TOKEN: Telegram does not accept this token"
    )
    assert "wrong-token" not in run.stderr


async def test_serve_in_webhook_mode_registers_the_webhook_and_answers_through_it(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    port = _free_port()
    async with FakeTelegram() as fake:
        env = _env(
            url,
            tmp_path,
            fake,
            port,
            PUBLIC_BASE_URL="https://salon.example.com",
            TELEGRAM_WEBHOOK_SECRET="webhook_secret-1",
        )
        await _load_demo(env)
        process = await asyncio.create_subprocess_exec(
            str(SALONBOT), "serve", env=env, cwd=ROOT, stderr=subprocess.PIPE
        )
        try:
            await _wait_ready(port)
            assert fake.webhook is not None
            assert fake.webhook.url == "https://salon.example.com/webhooks/telegram"
            assert fake.webhook.secret == "webhook_secret-1"
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"http://127.0.0.1:{port}/webhooks/telegram",
                    json=fake.text_update(ADA, "/start"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": "webhook_secret-1"},
                )
            assert answer.status_code == 200
            await eventually(lambda: fake.messages_to(ADA), within=30)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert fake.messages_to(ADA)[0].text.startswith("Hello, Ada!")
