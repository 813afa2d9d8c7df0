"""``salonbot serve`` with metrics, as a real process against the fake Bot API: the own
listener (``METRICS_PORT``), the token on the main app, and a port in use refused at start."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.adapters.telegram_harness import eventually
from tests.adapters.test_serve_process import (
    ADA,
    ROOT,
    SALONBOT,
    _env,
    _free_port,
    _load_demo,
    _wait_ready,
)
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "metrics-token-0123456789abcdef"


def _value(body: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


async def test_serve_counts_what_it_did_on_its_metrics_port(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    port, metrics_port = _free_port(), _free_port()
    async with FakeTelegram() as fake:
        env = _env(url, tmp_path, fake, port, METRICS_PORT=str(metrics_port), METRICS_TOKEN=TOKEN)
        await _load_demo(env)
        process = await asyncio.create_subprocess_exec(
            str(SALONBOT), "serve", env=env, cwd=ROOT, stderr=subprocess.PIPE
        )
        try:
            await _wait_ready(port)
            fake.queue_update(fake.text_update(ADA, "/start"))
            await eventually(lambda: fake.messages_to(ADA), within=30)
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(timeout=10) as client:
                own = f"http://127.0.0.1:{metrics_port}/metrics"

                async def sent() -> str | None:
                    body = (await client.get(own, headers=bearer)).text
                    counted = _value(
                        body, "salonbot_outbound_messages_total", channel="telegram", outcome="sent"
                    )
                    return body if counted else None

                body = await eventually(sent, within=30)
                unauthorised = await client.get(own)
                main = await client.get(f"http://127.0.0.1:{port}/metrics")
                main_with_token = await client.get(
                    f"http://127.0.0.1:{port}/metrics", headers=bearer
                )
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.stderr is not None
        logged = (await process.stderr.read()).decode()

    assert code == 0, logged
    handled = _value(body, "salonbot_inbound_events_total", channel="telegram", outcome="handled")
    assert handled == 1
    assert _value(body, "salonbot_inbound_events_total", channel="telegram", outcome="parked") == 0
    assert _value(body, "salonbot_inbox_pending", channel="telegram") == 0
    assert _value(body, "salonbot_backlog_read_ok") == 1
    assert _value(body, "salonbot_inbox_pending", channel="whatsapp") is None  # not served
    assert unauthorised.status_code == 401
    assert main.status_code == 401
    assert main_with_token.status_code == 200
    assert TOKEN not in logged
    with socket.socket() as probe:  # the listener is closed with the process
        assert probe.connect_ex(("127.0.0.1", metrics_port)) != 0


async def test_serve_with_its_metrics_port_in_use_says_so_and_registers_nothing(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        async with FakeTelegram() as fake:
            env = _env(url, tmp_path, fake, _free_port(), METRICS_PORT=str(busy))
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
        f"salonbot: METRICS_PORT: cannot listen on 127.0.0.1:{busy}: Address already in use"
    )
    assert fake.requests["getMe"] == 0
