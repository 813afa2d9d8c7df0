"""The developer kit is well-formed and describes the codebase as it is."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLAUDE = ROOT / ".claude"
TOP_LEVEL = (
    "src/",
    "tests/",
    "migrations/",
    "scripts/",
    "examples/",
    "bench/",
    "docs/",
    ".claude/",
    ".ci/",
)


def frontmatter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.+)", text, re.S)
    assert match, f"{path} has no YAML frontmatter"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    assert match.group(2).strip(), f"{path} has no body"
    return data


def test_the_code_reviewer_agent_has_its_frontmatter() -> None:
    data = frontmatter(CLAUDE / "agents" / "code-reviewer.md")
    assert data["name"] == "code-reviewer"
    assert isinstance(data["description"], str)
    assert data["description"].strip()
    assert [t.strip() for t in str(data["tools"]).split(",")] == ["Read", "Grep", "Glob", "Bash"]


def test_the_add_feature_skill_has_its_frontmatter() -> None:
    data = frontmatter(CLAUDE / "skills" / "add-feature" / "SKILL.md")
    assert data["name"] == "add-feature"
    assert re.fullmatch(r"[a-z0-9-]{1,64}", str(data["name"]))
    description = str(data["description"])
    assert description.strip()
    assert len(description) <= 1024


def _hook_commands() -> list[str]:
    settings = json.loads((CLAUDE / "settings.json").read_text(encoding="utf-8"))
    commands = []
    for event in ("PreToolUse", "PostToolUse"):
        entries = settings["hooks"][event]
        assert [entry["matcher"] for entry in entries] == ["Edit|Write|MultiEdit"]
        for entry in entries:
            for hook in entry["hooks"]:
                assert hook["type"] == "command"
                commands.append(hook["command"])
    return commands


def test_settings_point_at_hook_scripts_that_exist_and_are_executable() -> None:
    commands = _hook_commands()
    assert len(commands) == 2
    for command in commands:
        assert command.startswith('"$CLAUDE_PROJECT_DIR"/')
        script = ROOT / command.removeprefix('"$CLAUDE_PROJECT_DIR"/')
        assert script.is_file(), script
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")


@pytest.mark.parametrize(
    "document",
    ["CLAUDE.md", ".claude/skills/add-feature/SKILL.md"],
)
def test_every_path_the_kit_mentions_exists(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    mentioned = {
        token.rstrip("/")
        for token in re.findall(r"`([^`\s]+)`", text)
        if token.startswith(TOP_LEVEL) and "<" not in token
    }
    assert mentioned, "expected the kit to name some paths"
    missing = sorted(path for path in mentioned if not (ROOT / path).exists())
    assert missing == []


def test_the_names_claude_md_relies_on_exist_in_the_code() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    for name in (
        "def lock_staff",
        "def find_slot",
        "ex_bookings_staff_blocked",
        "class CatalogReader",
        "async def busy_by_staff",
        "class Clock",
    ):
        assert name in source, name
    assert (ROOT / "scripts" / "check").is_file()
