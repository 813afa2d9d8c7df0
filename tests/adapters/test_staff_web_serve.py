"""``salonbot serve`` with no chat channel configured: the staff pages alone, said in the log."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.adapters.test_serve_process import ROOT, SALONBOT, _free_port, _load_demo, _wait_ready


async def test_serve_without_a_chat_channel_serves_the_staff_pages_and_says_so(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    url = await asyncio.to_thread(fresh_database)
    port = _free_port()
    unset = ("PUBLIC_BASE_URL", "TELEGRAM_BOT_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("WHATSAPP")}
    env.update(DATABASE_URL=url, SALONBOT_DATA_DIR=str(tmp_path / "data"), PORT=str(port))
    await _load_demo(env)
    process = await asyncio.create_subprocess_exec(
        str(SALONBOT), "serve", env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        await _wait_ready(port)
        async with httpx.AsyncClient(timeout=5) as client:
            login = await client.get(f"http://127.0.0.1:{port}/staff/login")
            page = await client.get(f"http://127.0.0.1:{port}/staff/")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    logged = (await process.stderr.read()).decode()

    assert code == 0, logged
    assert login.status_code == 200
    assert "Sign in" in login.text
    assert page.status_code == 303
    assert page.headers["location"] == "/staff/login"
    events = [json.loads(line)["event"] for line in logged.splitlines() if line.startswith("{")]
    assert any(event.startswith("no chat channel is configured") for event in events), events
    assert "serving" in events
