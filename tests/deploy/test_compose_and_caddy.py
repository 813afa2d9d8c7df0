"""docker-compose.yml and the Caddyfile: valid for the tools that run them (Debian's
``docker-compose`` and ``caddy``), and wired as the stack needs: pinned images, Postgres
healthy before salonbot, a stop long enough for a graceful one, the headers and the proxy."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from adapters.staff_web.security import HEADERS as STAFF_HEADERS
from core.services.dispatch import RECORDING_TIME, SEND_TIMEOUT
from tests.deploy.docker_files import ROOT
from tests.deploy.tools import required_tool

COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "Caddyfile"
_SAME_AS_STAFF = ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _seconds(duration: str) -> float:
    found = re.fullmatch(r"(\d+)(s|m)", duration)
    assert found, duration
    return int(found.group(1)) * (60 if found.group(2) == "m" else 1)


def test_every_image_is_pinned_postgres_16_and_caddy_2() -> None:
    services = _compose()["services"]
    assert re.fullmatch(r"postgres:16\.\d+", services["postgres"]["image"])
    assert re.fullmatch(r"caddy:2\.\d+\.\d+", services["caddy"]["image"])
    assert services["salonbot"]["build"] == "."


def test_salonbot_waits_for_a_healthy_postgres_and_every_service_restarts() -> None:
    services = _compose()["services"]
    assert services["salonbot"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


def test_the_stop_outlasts_salonbots_graceful_stop() -> None:
    """A message being sent gets ``SEND_TIMEOUT`` + ``RECORDING_TIME`` to finish and be
    recorded (``Runtime.stop``); killed sooner it may be sent twice. Docker's default is
    10 s."""
    salonbot = _compose()["services"]["salonbot"]
    assert _seconds(salonbot["stop_grace_period"]) >= SEND_TIMEOUT + RECORDING_TIME + 10


def test_salonbot_is_reached_only_through_caddy_which_it_believes() -> None:
    """It believes X-Forwarded-For from Caddy's address alone: that address is fixed in a
    pinned subnet, outside the range others are given; no port of salonbot's is published,
    its one network with a way in is shared with Caddy alone, and a Prometheus has a network
    of its own."""
    compose = _compose()
    services = compose["services"]
    salonbot = services["salonbot"]
    assert "ports" not in salonbot
    (pool,) = compose["networks"]["edge"]["ipam"]["config"]
    subnet = ipaddress.IPv4Network(pool["subnet"])
    others = ipaddress.IPv4Network(pool["ip_range"])
    caddy = ipaddress.IPv4Address(services["caddy"]["networks"]["edge"]["ipv4_address"])
    assert caddy in subnet
    assert caddy not in others
    assert others.subnet_of(subnet)
    assert caddy != next(subnet.hosts())  # the gateway's
    assert salonbot["environment"]["FORWARDED_ALLOW_IPS"] == str(caddy)
    assert compose["networks"]["data"] == {"internal": True}
    assert compose["networks"]["metrics"] == {"internal": True}
    on = {
        network: {name for name, s in services.items() if network in s.get("networks", [])}
        for network in ("edge", "data", "metrics")
    }
    assert on == {
        "edge": {"salonbot", "caddy"},
        "data": {"salonbot", "postgres"},
        "metrics": {"salonbot"},
    }
    assert "ports" not in services["postgres"]


def test_the_catalog_is_mounted_read_only_and_the_data_lives_in_named_volumes() -> None:
    compose = _compose()
    services = compose["services"]
    assert (
        # A directory: a file's bind mount would keep an editor's replaced file.
        "${SALON_CATALOG_DIR:-./catalog}:/etc/salonbot/catalog:ro"
        in (services["salonbot"]["volumes"])
    )
    assert set(compose["volumes"]) == {"pgdata", "caddy_data", "caddy_config"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]


def _project(tmp_path: Path) -> Path:
    """A copy of the stack's files with ``.env.example`` as its ``.env``."""
    tmp_path.mkdir()
    for name in ("docker-compose.yml", "Caddyfile", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def _clean_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """This environment without the stack's variables (the tools would take them over
    ``.env``), with a home of the test's own for Caddy's files."""
    stack = {"SALON_DOMAIN", "POSTGRES_PASSWORD", "SALON_CATALOG_DIR", "SALONBOT_UPSTREAM"}
    env = {k: v for k, v in os.environ.items() if k not in stack and not k.startswith("XDG_")}
    env.update(HOME=str(tmp_path / "home"), **more)
    return env


def test_docker_compose_accepts_the_file_with_the_example_env(tmp_path: Path) -> None:
    compose = required_tool("docker-compose")
    project = _project(tmp_path / "project")
    with (project / ".env").open("a") as dotenv:  # as an operator fills it in
        dotenv.write("TELEGRAM_WEBHOOK_SECRET=own-secret\nHOST=203.0.113.7\n")
    env = _clean_env(tmp_path)
    checked = _run([compose, "-f", "docker-compose.yml", "config", "-q"], project, env)
    assert checked.returncode == 0, checked.stderr
    rendered = yaml.safe_load(_run([compose, "config"], project, env).stdout)
    salonbot = rendered["services"]["salonbot"]["environment"]
    assert salonbot["PUBLIC_BASE_URL"] == "https://salon.example.com"
    assert salonbot["DATABASE_URL"] == (
        "postgresql://salonbot:replace-with-openssl-rand-hex-24@postgres:5432/salonbot"
    )
    # .env's settings reach the container (env_file), the stack's own win; the example's
    # commented Telegram lines are no settings.
    assert salonbot["TELEGRAM_WEBHOOK_SECRET"] == "own-secret"
    assert salonbot["HOST"] == "0.0.0.0"
    assert "TELEGRAM_BOT_TOKEN" not in salonbot


def test_docker_compose_refuses_to_start_without_the_domain_or_the_password(
    tmp_path: Path,
) -> None:
    compose = required_tool("docker-compose")
    project = _project(tmp_path / "project")
    (project / ".env").write_text("TELEGRAM_BOT_TOKEN=\n")
    checked = _run([compose, "config", "-q"], project, _clean_env(tmp_path))
    assert checked.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in checked.stderr or (
        "set SALON_DOMAIN in .env" in checked.stderr
    )


def _adapted(tmp_path: Path, **env: str) -> dict[str, Any]:
    caddy = required_tool("caddy")
    adapt = ["adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    run = _run([caddy, *adapt], tmp_path, _clean_env(tmp_path, **env))
    assert run.returncode == 0, run.stderr
    assert "not formatted" not in run.stderr  # `caddy fmt --overwrite Caddyfile`
    loaded = json.loads(run.stdout)
    assert isinstance(loaded, dict)
    return loaded


def _handlers(config: dict[str, Any]) -> list[dict[str, Any]]:
    (server,) = config["apps"]["http"]["servers"].values()
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["salon.example.com"]}]
    (subroute,) = route["handle"]
    handlers: list[dict[str, Any]] = []
    for inner in subroute["routes"]:
        handlers += inner["handle"]
    return handlers


def test_caddy_validates_the_caddyfile(tmp_path: Path) -> None:
    caddy = required_tool("caddy")
    validate = [caddy, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    run = _run(validate, tmp_path, _clean_env(tmp_path, SALON_DOMAIN="salon.example.com"))
    assert run.returncode == 0, run.stderr
    assert "Valid configuration" in run.stdout + run.stderr


def test_caddy_serves_the_domain_over_https_compressed_to_salonbot(tmp_path: Path) -> None:
    config = _adapted(tmp_path, SALON_DOMAIN="salon.example.com")
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]  # and :80 redirects, Caddy's automatic HTTPS
    handlers = _handlers(config)
    (proxy,) = [h for h in handlers if h["handler"] == "reverse_proxy"]
    assert proxy["upstreams"] == [{"dial": "salonbot:8080"}]  # the compose service
    (encode,) = [h for h in handlers if h["handler"] == "encode"]
    assert set(encode["encodings"]) == {"zstd", "gzip"}
    compressed = encode["match"]["headers"]["Content-Type"]
    assert {"text/html*", "text/css*", "application/json*", "text/calendar*"} <= set(compressed)
    # The live calendar's stream stays uncompressed: nothing that matches text/event-stream.
    assert not any(fnmatch("text/event-stream", kind) for kind in compressed)


def test_caddy_adds_security_headers_without_doubling_the_apps(tmp_path: Path) -> None:
    """HSTS always; the others only where the app sent none (its staff pages send their
    own), with the staff pages' values: set when the response has no such header, never a
    second value."""
    config = _adapted(tmp_path, SALON_DOMAIN="salon.example.com")
    headers = [h["response"] for h in _handlers(config) if h["handler"] == "headers"]
    always = {name for h in headers if "require" not in h for name in h.get("set", {})}
    assert always == {"Strict-Transport-Security"}
    defaults = {}
    for h in headers:
        if "require" in h:
            (name,) = h["set"]
            assert h["require"] == {"headers": {name: None}}  # only when the app has none
            defaults[name] = h["set"][name]
    staff = {name: [STAFF_HEADERS[name]] for name in _SAME_AS_STAFF}
    assert defaults == {**staff, "Content-Security-Policy": ["frame-ancestors 'none'"]}
    assert "frame-ancestors 'none'" in STAFF_HEADERS["Content-Security-Policy"]
    assert any("Server" in h.get("delete", []) for h in headers)
