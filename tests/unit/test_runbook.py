"""RUNBOOK.md's commands stay real: every ``salonbot`` command it tells an operator to run
in the container exists, every compose service it names is in ``docker-compose.yml``, and
every section the README's Observability part and the doctor point to is there."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import yaml

from salonbot.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "RUNBOOK.md").read_text(encoding="utf-8")
# The image carries no Postgres client programs: in compose, the postgres container's own
# pg_dump and pg_restore do these (RUNBOOK: Backups), never salonbot's in its container.
NOT_IN_THE_IMAGE = {"backup", "restore"}
# `docker compose exec salonbot salonbot CMD`, `docker compose run --rm [-v X] salonbot CMD`
SALONBOT = re.compile(
    r"docker compose (?:exec salonbot salonbot|run --rm (?:-v \S+ )*salonbot)"
    r" ([a-z-]+)(?: ([a-z-]+))?"
)
# Options of `docker compose` verbs that take a value.
WITH_VALUE = {"-v", "--since", "--tail"}
# Verbs whose remaining words are services, and those that name one then run a command.
SERVICES_VERBS = {"logs", "ps", "stop", "restart", "pull", "build", "up", "down"}
ONE_SERVICE_VERBS = {"exec", "run"}


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_salonbot_command_in_the_runbook_exists() -> None:
    commands = _commands(_parser())
    found = [match for line in _code(RUNBOOK) for match in SALONBOT.findall(line)]
    assert len(found) > 10
    for command, sub in found:
        assert command not in NOT_IN_THE_IMAGE, command
        assert command in commands, command
        subcommands = _commands(commands[command])
        if subcommands:
            assert sub in subcommands, f"{command} {sub}"


def _code(markdown: str) -> list[str]:
    """The commands a reader is told to type: fenced blocks' lines and inline code."""
    found: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        elif fenced:
            found.append(line.strip())
        else:
            found += re.findall(r"`([^`]+)`", line)
    return found


def _services_named(line: str) -> list[str]:
    words = line.split("docker compose ", 1)[1].split()
    verb, rest = words[0], words[1:]
    named: list[str] = []
    skip = False
    for word in rest:
        if skip:
            skip = False
            continue
        if word in WITH_VALUE:
            skip = True
            continue
        if word.startswith("-"):
            continue
        if word[0] in "|;&#)":
            break
        named.append(word)
        if verb in ONE_SERVICE_VERBS:
            break
    return named if verb in SERVICES_VERBS | ONE_SERVICE_VERBS else []


def test_every_compose_service_the_runbook_names_exists() -> None:
    services = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])
    lines = [line for line in _code(RUNBOOK) if "docker compose " in line]
    named = {service for line in lines for service in _services_named(line)}
    assert {"salonbot", "postgres"} <= named
    assert named <= services


def test_the_sections_others_point_to_are_there() -> None:
    headings = {
        line.lstrip("# ").strip() for line in RUNBOOK.splitlines() if line.startswith("## ")
    }
    for heading in (
        "Install",
        "Upgrade",
        "Restore",
        "Rotate a token or a secret",
        "The bot does not answer",
        "WhatsApp token expired",
        "Disk full",
        "Postgres down",
    ):
        assert heading in headings


def _heredoc(marker: str) -> str:
    start = RUNBOOK.index(f"<<'{marker}'\n") + len(f"<<'{marker}'\n")
    return RUNBOOK[start : RUNBOOK.index(f"\n{marker}\n", start)]


def test_the_compose_backup_is_checked_before_it_takes_its_name_and_logs() -> None:
    """A failed dump must not leave a truncated file named like the newest backup."""
    script = _heredoc("SCRIPT")
    checked = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    lines = script.splitlines()
    assert "set -eu" in lines
    dump = next(i for i, line in enumerate(lines) if "pg_dump" in line)
    listed = next(i for i, line in enumerate(lines) if "pg_restore --list" in line)
    named = next(i for i, line in enumerate(lines) if line.startswith("mv "))
    assert dump < listed < named
    assert '> "$dump.partial"' in lines[dump]
    assert "root /usr/local/sbin/salonbot-backup >>/var/log/" in RUNBOOK
    assert all(">>/var/log/" in line for line in RUNBOOK.splitlines() if " * * * root " in line)
