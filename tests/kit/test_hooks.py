"""The Claude Code hooks, run as Claude Code runs them: a subprocess with JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARD = ROOT / ".claude" / "hooks" / "guard_secrets.py"
TYPECHECK = ROOT / ".claude" / "hooks" / "typecheck.py"


def run_hook(script: Path, event: dict[str, object], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(ROOT)}
    return subprocess.run(
        [str(script)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=180,
        check=False,
    )


def edit_event(file_path: str, cwd: Path, tool: str = "Edit", **extra: object) -> dict[str, object]:
    return {
        "session_id": "test",
        "transcript_path": "/dev/null",
        "cwd": str(cwd),
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"file_path": file_path, "old_string": "a", "new_string": "b", **extra},
    }


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "./.env",
        "src/../.env",
        ".env.production",
        "deploy/.env.local",
        "certs/server.pem",
        "tls/private.key",
        "secrets/token.txt",
        "config/secrets/db.yaml",
        "google-service-account.json",
        "gcp-credentials.json",
    ],
)
def test_edits_of_secret_files_are_blocked(tmp_path: Path, path: str) -> None:
    (tmp_path / "src").mkdir()
    result = run_hook(GUARD, edit_event(path, tmp_path), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Blocked" in result.stderr
    assert result.stdout == ""


def test_a_symlink_to_env_is_blocked(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=x\n")
    (tmp_path / "settings.txt").symlink_to(tmp_path / ".env")
    result = run_hook(GUARD, edit_event("settings.txt", tmp_path), tmp_path)
    assert result.returncode == 2
    assert ".env" in result.stderr


def test_a_json_file_holding_a_service_account_key_is_blocked(tmp_path: Path) -> None:
    key = {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}
    event = edit_event("calendar.json", tmp_path, tool="Write", content=json.dumps(key))
    result = run_hook(GUARD, event, tmp_path)
    assert result.returncode == 2
    assert "service-account" in result.stderr


@pytest.mark.parametrize(
    "path",
    [".env.example", "src/core/domain/booking.py", "README.md", "examples/salon.yaml", "a.json"],
)
def test_ordinary_files_are_allowed_silently(tmp_path: Path, path: str) -> None:
    result = run_hook(GUARD, edit_event(path, tmp_path, tool="Write", content="{}"), tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_multiedit_of_a_secret_is_blocked(tmp_path: Path) -> None:
    event = edit_event(".env", tmp_path, tool="MultiEdit", edits=[{"new_string": "X=1"}])
    assert run_hook(GUARD, event, tmp_path).returncode == 2


def _probe(code: str, under: str = "tests/kit") -> Path:
    path = ROOT / under / f"_hook_probe_{uuid.uuid4().hex[:8]}.py"
    path.write_text(code, encoding="utf-8")
    return path


def test_a_python_file_with_a_type_error_gives_exit_2_and_the_error() -> None:
    probe = _probe('def answer() -> int:\n    return "forty-two"\n')
    try:
        event = edit_event(str(probe), ROOT, tool="Write")
        event["hook_event_name"] = "PostToolUse"
        result = run_hook(TYPECHECK, event, ROOT)
    finally:
        probe.unlink()
    assert result.returncode == 2
    assert "Incompatible return value type" in result.stderr
    assert probe.name in result.stderr


def test_a_clean_python_file_gives_exit_0_and_no_output() -> None:
    probe = _probe("def answer() -> int:\n    return 42\n")
    try:
        event = edit_event(str(probe), ROOT, tool="Write")
        event["hook_event_name"] = "PostToolUse"
        result = run_hook(TYPECHECK, event, ROOT)
    finally:
        probe.unlink()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("path", ["README.md", "bench/availability.py", "/tmp/elsewhere.py"])
def test_files_outside_src_and_tests_are_not_type_checked(path: str) -> None:
    event = edit_event(path, ROOT, tool="Write")
    result = run_hook(TYPECHECK, event, ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
