"""``FORWARDED_ALLOW_IPS``: whose X-Forwarded-For and -Proto ``salonbot serve`` believes
(the sign-in throttle counts the client's address; cookies follow the scheme)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from salonbot.config import Settings
from salonbot.serve import server_config

PROXY = "10.1.2.3"
CLIENT = "198.51.100.7"


def _settings(**env: str) -> Settings:
    return Settings.model_validate(env)


async def _seen_through(settings: Settings) -> tuple[str, str]:
    """(client address, scheme) the app sees of a request the proxy forwards."""
    web = FastAPI()

    @web.get("/who")
    async def who(request: Request) -> dict[str, str]:
        assert request.client is not None
        return {"client": request.client.host, "scheme": request.url.scheme}

    config = server_config(web, settings)
    config.load()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/who",
        "raw_path": b"/who",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"salon.example.com"),
            (b"x-forwarded-for", CLIENT.encode()),
            (b"x-forwarded-proto", b"https"),
        ],
        "client": (PROXY, 40000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await config.loaded_app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    seen = json.loads(body)
    return seen["client"], seen["scheme"]


async def test_by_default_only_a_proxy_on_this_host_is_believed() -> None:
    assert _settings().forwarded_allow_ips == "127.0.0.1,::1"
    assert await _seen_through(_settings()) == (PROXY, "http")


@pytest.mark.parametrize("allowed", ["10.0.0.0/8", f"{PROXY}, ::1", "*"])
async def test_a_believed_proxy_gives_the_clients_address_and_scheme(allowed: str) -> None:
    settings = _settings(FORWARDED_ALLOW_IPS=allowed)
    assert await _seen_through(settings) == (CLIENT, "https")


@pytest.mark.parametrize("allowed", ["proxy.internal", "10.0.0.1/8", "*, 10.0.0.1", ""])
def test_an_entry_uvicorn_would_silently_never_match_is_refused(allowed: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(FORWARDED_ALLOW_IPS=allowed)
    problem = raised.value.errors()[0]
    assert problem["loc"] == ("FORWARDED_ALLOW_IPS",)
    assert "IP addresses or networks" in problem["msg"]
