"""The WhatsApp channel added to a runtime: webhook route, sender, pacing."""

from __future__ import annotations

import httpx

from adapters.whatsapp.sender import WhatsAppSender
from adapters.whatsapp.updates import WhatsAppInbound
from adapters.whatsapp.webhook import whatsapp_webhook
from core.services.pacing import Pacing
from salonbot.runtime import Runtime

# Meta: about 1 message per 6 s to one customer (short bursts borrow from later), 80/s per
# number.
WHATSAPP_PACING = Pacing(
    per_chat_rate=1 / 6, per_chat_burst=3.0, overall_rate=75.0, overall_burst=5.0
)


def add_whatsapp(
    runtime: Runtime,
    *,
    api_base: str,
    phone_number_id: str,
    token: str,
    app_secret: str,
    verify_token: str,
    template: str | None = None,
    template_language: str = "en",
    reminder_template: str | None = None,
    pacing: Pacing = WHATSAPP_PACING,
) -> None:
    """One ``httpx.AsyncClient`` for the process, closed when the runtime stops."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=10.0))
    sender = WhatsAppSender(
        client,
        api_base,
        phone_number_id,
        token,
        template=template,
        template_language=template_language,
        reminder_template=reminder_template,
    )
    route = whatsapp_webhook(
        runtime.store, runtime.record_deliveries, app_secret, verify_token, phone_number_id
    )
    runtime.add_channel(
        WhatsAppInbound(), sender, pacing=pacing, routers=[route], close=client.aclose
    )
