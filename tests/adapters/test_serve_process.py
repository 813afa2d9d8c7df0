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

from tests.adapters.telegram_harness import eventually
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SALONBOT = Path(sys.executable).parent / "salonbot"
ADA = 5001


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200


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
    load = await asyncio.to_thread(
        subprocess.run,
        [str(SALONBOT), "catalog", "load", "examples/salon.yaml"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert load.returncode == 0, load.stderr


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
            await eventually(lambda: _ready(port), within=60)
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
            await eventually(lambda: _ready(port), within=60)
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
