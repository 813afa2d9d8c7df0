"""docker-compose.yml's stack without containers: the tests' Postgres, ``salonbot serve``
as a process, and Debian's caddy running the real Caddyfile (imported under global options
of this test's own: free local ports, Caddy's internal CA, no admin endpoint), all started
here. Telegram and WhatsApp are the faithful fakes; requests go through Caddy over HTTPS,
checked against Caddy's own root certificate."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from core.calendar.ports import Role
from core.services.staff_accounts import StaffAccounts
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.passwords import Argon2Passwords
from tests.adapters.telegram_harness import eventually
from tests.adapters.test_serve_process import SALONBOT, _free_port, _load_demo, _wait_ready
from tests.deploy.docker_files import ROOT, healthcheck_argv, stages
from tests.deploy.tools import required_tool
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp

ADA = 5001
WA_ID = "4915112345678"
SECRET = "stack-webhook-secret"
OWNER, PASSWORD = "owner@salon.test", "correct horse battery"
# A client on another loopback address than Caddy's own connection to salonbot, so the
# address salonbot records tells the two apart.
CLIENT_ADDRESS = "127.0.0.2"
FORGED = "203.0.113.9"


@dataclass
class Stack:
    base: str
    http_port: int
    app_port: int
    ca: ssl.SSLContext
    database_url: str
    telegram: FakeTelegram
    whatsapp: FakeWhatsApp
    logs: Path

    def client(self, **more: Any) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(verify=self.ca, local_address=CLIENT_ADDRESS)
        return httpx.AsyncClient(base_url=self.base, transport=transport, timeout=10, **more)

    def logged(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )


def _caddyfile(tmp: Path, http_port: int, https_port: int) -> Path:
    """The real Caddyfile under this test's global options."""
    config = tmp / "Caddyfile"
    config.write_text(
        "{\n"
        f"\thttp_port {http_port}\n"
        f"\thttps_port {https_port}\n"
        "\tadmin off\n"
        "\tlocal_certs\n"
        "\tskip_install_trust\n"
        f"\tstorage file_system {tmp / 'caddy'}\n"
        "}\n"
        f"import {ROOT / 'Caddyfile'}\n"
    )
    return config


def _compose_forwarded_allow_ips() -> str:
    """docker-compose.yml's FORWARDED_ALLOW_IPS, for this stack: there, Caddy's fixed
    address on the edge network (and nothing else); here, where this Caddy reaches salonbot
    from (loopback's first address)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    believed = compose["services"]["salonbot"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert believed == compose["services"]["caddy"]["networks"]["edge"]["ipv4_address"]
    return "127.0.0.1"


async def _add_owner(url: str) -> None:
    app = Salonbot(make_engine(url, pool_size=1))
    try:
        accounts = StaffAccounts(app.uow, app.clock, Argon2Passwords())
        await accounts.add(OWNER, PASSWORD, Role.OWNER, None, "en")
    finally:
        await app.close()


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _serving(process: asyncio.subprocess.Process, port: int, log: Path) -> None:
    """Wait until ``serve`` is ready, or fail at once with its log if it exited."""
    waiting = asyncio.create_task(_wait_ready(port))
    exited = asyncio.create_task(process.wait())
    await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        logged = await asyncio.to_thread(log.read_text)
        raise AssertionError(f"salonbot serve exited:\n{logged[-3000:]}")
    exited.cancel()
    waiting.result()


async def _ca_when_ready(root_cert: Path, base: str) -> ssl.SSLContext:
    """Caddy's root certificate once it made one, and Caddy answering with salonbot."""
    await eventually(root_cert.is_file, within=30)
    context = ssl.create_default_context(cafile=str(root_cert))
    async with httpx.AsyncClient(base_url=base, verify=context, timeout=2) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.HTTPError:  # not listening yet, or its certificate not made yet
                return False

        await eventually(ready, within=30)
    return context


@pytest.fixture(scope="module")
async def stack(
    fresh_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    caddy = required_tool("caddy")
    tmp = tmp_path_factory.mktemp("stack")
    url = await asyncio.to_thread(fresh_database)
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    base = f"https://localhost:{https_port}"
    # What Telegram is told (it calls ports 80, 88, 443 and 8443 only, as the fake checks):
    # docker compose's https://SALON_DOMAIN. This Caddy listens on a free port instead.
    public = "https://localhost"
    processes: list[asyncio.subprocess.Process] = []
    async with FakeTelegram() as telegram, FakeWhatsApp(auto_statuses=False) as whatsapp:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "WHATSAPP_", "GOOGLE_"))
        }
        env.update(
            DATABASE_URL=url,
            SALONBOT_DATA_DIR=str(tmp / "data"),
            HOST="127.0.0.1",
            PORT=str(app_port),
            PUBLIC_BASE_URL=public,
            FORWARDED_ALLOW_IPS=_compose_forwarded_allow_ips(),
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            WHATSAPP_TOKEN=whatsapp.token,
            WHATSAPP_PHONE_NUMBER_ID=whatsapp.phone_number_id,
            WHATSAPP_APP_SECRET=whatsapp.app_secret,
            WHATSAPP_VERIFY_TOKEN="stack-verify-token",
            WHATSAPP_API_BASE=whatsapp.base_url,
        )
        await _load_demo(env)
        await _add_owner(url)
        caddy_env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        caddy_env.update(
            HOME=str(tmp / "home"),
            SALON_DOMAIN="localhost",
            SALONBOT_UPSTREAM=f"127.0.0.1:{app_port}",
        )
        with (tmp / "serve.log").open("wb") as serve_log, (tmp / "caddy.log").open("wb") as log:
            try:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        str(SALONBOT), "serve", env=env, cwd=tmp, stderr=serve_log
                    )
                )
                config = _caddyfile(tmp, http_port, https_port)
                processes.append(
                    await asyncio.create_subprocess_exec(
                        caddy,
                        *("run", "--config", str(config), "--adapter", "caddyfile"),
                        env=caddy_env,
                        cwd=tmp,
                        stdout=log,
                        stderr=log,
                    )
                )
                await _serving(processes[0], app_port, tmp / "serve.log")
                root_cert = tmp / "caddy" / "pki" / "authorities" / "local" / "root.crt"
                ca = await _ca_when_ready(root_cert, base)
                yield Stack(base, http_port, app_port, ca, url, telegram, whatsapp, tmp)
            finally:
                await asyncio.gather(*(_stop(p) for p in reversed(processes)))


async def _rows(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def test_a_telegram_update_through_caddy_is_stored_and_answered(stack: Stack) -> None:
    update = stack.telegram.text_update(ADA, "/start")
    async with stack.client() as client:
        answer = await client.post(
            "/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert answer.status_code == 200, stack.logged()
    stored = await _rows(
        stack.database_url,
        "SELECT channel FROM inbound_events WHERE platform_id = $1",
        str(update["update_id"]),
    )
    assert [row["channel"] for row in stored] == ["telegram"]
    await eventually(lambda: stack.telegram.messages_to(ADA), within=30)
    assert stack.telegram.messages_to(ADA)[0].text.startswith("Hello, Ada!")
    assert stack.telegram.webhook is not None
    assert stack.telegram.webhook.url == "https://localhost/webhooks/telegram"


async def test_a_signed_whatsapp_message_through_caddy_is_stored_and_answered(
    stack: Stack,
) -> None:
    """The signature is over the raw body: it must reach salonbot byte for byte."""
    raw = stack.whatsapp.encode(stack.whatsapp.envelope([stack.whatsapp.text_message(WA_ID, "Hi")]))
    async with stack.client() as client:
        forged = await client.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00"},
        )
        answer = await client.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": stack.whatsapp.sign(raw),
            },
        )
    assert forged.status_code == 401
    assert answer.status_code == 200, stack.logged()
    stored = await _rows(
        stack.database_url, "SELECT chat_key FROM inbound_events WHERE channel = 'whatsapp'"
    )
    assert len(stored) == 1
    await eventually(lambda: stack.whatsapp.messages_to(WA_ID), within=30)


async def test_readyz_through_caddy_is_200_and_plain_http_is_sent_to_https(stack: Stack) -> None:
    async with stack.client() as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    async with httpx.AsyncClient(timeout=10) as plain:
        redirected = await plain.get(
            f"http://127.0.0.1:{stack.http_port}/readyz", headers={"Host": "localhost"}
        )
    assert redirected.status_code == 308
    assert redirected.headers["location"].startswith("https://localhost")


@pytest.mark.parametrize("path", ["/healthz", "/staff/login", "/api/v1/bookings"])
async def test_every_answer_carries_the_security_headers_once(stack: Stack, path: str) -> None:
    async with stack.client() as client:
        answer = await client.get(path)
    headers = answer.headers
    assert headers.get_list("strict-transport-security") == ["max-age=31536000"]
    for name in ("x-content-type-options", "x-frame-options", "referrer-policy"):
        assert len(headers.get_list(name)) == 1, (path, name, headers)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers
    if path == "/healthz":  # Caddy's defaults, where the app sent none
        assert headers["referrer-policy"] == "same-origin"
    if path == "/api/v1/bookings":  # the API's own, stricter ones are kept, not doubled
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-security-policy"].startswith("default-src 'none'")


async def test_pages_and_scripts_are_compressed(stack: Stack) -> None:
    async with stack.client(headers={"Accept-Encoding": "gzip"}) as client:
        page = await client.get("/staff/login")
        script = await client.get("/staff/static/staff.js")
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "Sign in" in page.text
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"


async def test_salonbot_sees_the_clients_address_not_a_forged_one(stack: Stack) -> None:
    """A failed sign-in is counted against the address salonbot sees: the client's, as
    Caddy saw it, never what the client claimed in its own X-Forwarded-For."""
    async with stack.client() as client:
        form = await client.get("/staff/login")
        assert "Secure" in form.headers["set-cookie"]
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        refused = await client.post(
            "/staff/login",
            data={"email": OWNER, "password": "not the password", "csrf": token.group(1)},
            headers={"X-Forwarded-For": FORGED},
        )
    assert refused.status_code == 401
    counted = await _rows(stack.database_url, "SELECT address FROM login_failures")
    assert [row["address"] for row in counted] == [CLIENT_ADDRESS]


async def test_the_live_calendar_streams_through_caddy_at_once(stack: Stack) -> None:
    """Server-Sent Events pass through the proxy unbuffered and uncompressed: the first
    event arrives now, not when a buffer fills."""
    async with stack.client() as client:
        form = await client.get("/staff/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        signed = await client.post(
            "/staff/login", data={"email": OWNER, "password": PASSWORD, "csrf": token.group(1)}
        )
        assert signed.status_code == 303
        headers = {"Accept-Encoding": "gzip, zstd"}
        async with client.stream("GET", "/staff/live", headers=headers) as live:
            assert live.status_code == 200
            assert live.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in live.headers
            async with asyncio.timeout(5):  # the next heartbeat is 15 s away
                async for line in live.aiter_lines():
                    if line.startswith("event: hello"):
                        break


async def test_the_containers_healthcheck_passes_against_serve(stack: Stack) -> None:
    """The Dockerfile's HEALTHCHECK command (docker-compose.yml's too), as Docker runs
    it: 0 against a serving salonbot, not 0 where nothing answers."""
    argv = healthcheck_argv(stages()[-1])

    def check(port: int) -> int:
        env = {**os.environ, "PORT": str(port)}
        run = subprocess.run(argv, env=env, capture_output=True, timeout=30, check=False)
        return run.returncode

    assert await asyncio.to_thread(check, stack.app_port) == 0
    assert await asyncio.to_thread(check, _free_port()) != 0
