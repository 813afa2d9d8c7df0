"""``salonbot serve`` with no chat channel configured: the staff pages alone, said in the log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from core.calendar.ports import Role
from core.services.staff_accounts import StaffAccounts
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.passwords import Argon2Passwords
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


async def _add_owner(url: str, email: str, password: str) -> None:
    app = Salonbot(make_engine(url, pool_size=1))
    try:
        accounts = StaffAccounts(app.uow, app.clock, Argon2Passwords())
        await accounts.add(email, password, Role.OWNER, None, "en")
    finally:
        await app.close()


async def test_serve_stops_at_once_with_a_live_calendar_open(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    """uvicorn's graceful stop waits for every response: an open ``/staff/live`` stream
    must end when the process is told to stop, not hold it forever."""
    url = await asyncio.to_thread(fresh_database)
    port = _free_port()
    unset = ("PUBLIC_BASE_URL", "TELEGRAM_BOT_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("WHATSAPP")}
    env.update(DATABASE_URL=url, SALONBOT_DATA_DIR=str(tmp_path / "data"), PORT=str(port))
    await _load_demo(env)
    await _add_owner(url, "owner@salon.test", "correct horse battery")
    process = await asyncio.create_subprocess_exec(
        str(SALONBOT), "serve", env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(port)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            form = await client.get("/staff/login")
            found = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert found is not None
            signed = await client.post(
                "/staff/login",
                data={
                    "email": "owner@salon.test",
                    "password": "correct horse battery",
                    "csrf": found.group(1),
                },
            )
            assert signed.status_code == 303
            async with client.stream("GET", "/staff/live") as answer:
                assert answer.status_code == 200
                lines = answer.aiter_lines()
                async with asyncio.timeout(30):
                    async for line in lines:
                        if line == "":  # past the preamble and its hello
                            break
                process.send_signal(signal.SIGTERM)
                loop = asyncio.get_running_loop()
                asked = loop.time()
                async with asyncio.timeout(15):
                    rest = [line async for line in lines]
                code = await asyncio.wait_for(process.wait(), 15)
                took = loop.time() - asked
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    logged = (await process.stderr.read()).decode()

    assert code == 0, logged
    assert all(not line.startswith("event: changed") for line in rest)
    assert took < 10, logged
