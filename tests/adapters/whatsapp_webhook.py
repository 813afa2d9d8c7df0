"""salonbot's WhatsApp webhook in-process (no workers, no dispatcher running) and signed
notifications for it: what the request path does, with nothing else using the database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from salonbot.bootstrap import Salonbot
from salonbot.runtime import Runtime
from salonbot.web import create_web_app
from salonbot.whatsapp_runtime import add_whatsapp
from tests.fakes.whatsapp_api import FakeWhatsApp, SentMessage


class Webhook:
    def __init__(self, runtime: Runtime, client: httpx.AsyncClient, meta: FakeWhatsApp) -> None:
        self.runtime = runtime
        self.client = client
        self.meta = meta

    def messages(self, *texts: tuple[str, str]) -> dict[str, Any]:
        """A notification with a text message per (number, text)."""
        return self.meta.envelope([self.meta.text_message(number, said) for number, said in texts])

    def statuses(self, *wamids: str) -> dict[str, Any]:
        """A notification with a ``delivered`` status per wamid (and no message)."""
        return self.with_statuses(self.meta.envelope([]), wamids)

    @staticmethod
    def with_statuses(body: dict[str, Any], wamids: Sequence[str]) -> dict[str, Any]:
        stamp = str(int(time.time()))
        body["entry"][0]["changes"][0]["value"]["statuses"] = [
            {"id": wamid, "status": "delivered", "timestamp": stamp, "recipient_id": "4915"}
            for wamid in wamids
        ]
        return body

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        raw = self.meta.encode(body)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": self.meta.sign(raw)}
        return await self.client.post("/webhooks/whatsapp", content=raw, headers=headers)

    async def ready(self) -> httpx.Response:
        return await self.client.get("/readyz")


@asynccontextmanager
async def whatsapp_webhook(app: Salonbot) -> AsyncIterator[Webhook]:
    meta = FakeWhatsApp()  # only its payload builders and signing: nothing is served
    runtime = Runtime(app)
    add_whatsapp(
        runtime,
        api_base="http://127.0.0.1:9",
        phone_number_id=meta.phone_number_id,
        token=meta.token,
        app_secret=meta.app_secret,
        verify_token="verify-me",
    )
    web = create_web_app(
        app, runtime.routers, runtime.running, store_answering=runtime.store_answering
    )
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salonbot") as client:
        try:
            yield Webhook(runtime, client, meta)
        finally:
            await runtime.stop()


def choices(message: SentMessage) -> tuple[str, list[tuple[str, str]]]:
    """How a sent message offers its choices ("button", "list" or "text") and each choice
    as (id, title)."""
    interactive = message.payload.get("interactive") or {}
    if interactive.get("type") == "button":
        return "button", [
            (b["reply"]["id"], b["reply"]["title"]) for b in interactive["action"]["buttons"]
        ]
    if interactive.get("type") == "list":
        rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
        return "list", [(r["id"], r["title"]) for r in rows]
    return "text", []
