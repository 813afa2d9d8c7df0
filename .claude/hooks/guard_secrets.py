#!/usr/bin/env python3
"""PreToolUse hook: refuse edits of secret files.

Reads Claude Code's hook JSON on stdin. Exit 2 with the reason on stderr blocks the edit;
exit 0 lets it through. Paths are resolved first (relative to the session's cwd, with
``..`` and symlinks followed), so ``./.env``, ``src/../.env`` and a link to ``.env`` are
all caught; the name as written is checked too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

SERVICE_ACCOUNT_NAME = re.compile(r"(service[-_]?account|credentials|gcp[-_]?key)", re.I)


def _is_env_file(name: str) -> bool:
    return name == ".env" or (name.startswith(".env.") and name != ".env.example")


def _looks_like_service_account(path: Path, new_text: str) -> bool:
    if path.suffix.lower() != ".json":
        return False
    if SERVICE_ACCOUNT_NAME.search(path.name):
        return True
    texts = [new_text]
    with contextlib.suppress(OSError):
        texts.append(path.read_text(encoding="utf-8", errors="replace")[:100_000])
    return any('"service_account"' in text and "private_key" in text for text in texts)


def secret_reason(path: Path, new_text: str = "") -> str | None:
    """Why ``path`` is a secret, or None."""
    name = path.name
    if _is_env_file(name):
        return f"{name} holds environment secrets; edit .env.example instead"
    if path.suffix.lower() in (".pem", ".key"):
        return f"{name} is a key or certificate"
    if "secrets" in path.parts[:-1]:
        return f"{path} is under a secrets/ folder"
    if _looks_like_service_account(path, new_text):
        return f"{name} looks like a Google service-account key"
    return None


def _candidates(raw: str, cwd: str) -> list[Path]:
    written = Path(raw)
    if not written.is_absolute():
        written = Path(cwd) / written
    normalized = Path(os.path.normpath(written))
    resolved = Path(os.path.realpath(written))
    return list(dict.fromkeys([written, normalized, resolved]))


def main() -> int:
    try:
        event = json.load(sys.stdin)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"guard_secrets: unreadable hook input: {error}", file=sys.stderr)
        return 1
    tool_input = event.get("tool_input") or {}
    raw = tool_input.get("file_path") or tool_input.get("path")
    if not isinstance(raw, str) or not raw:
        return 0
    cwd = event.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    new_text = "".join(
        str(tool_input.get(key) or "") for key in ("content", "new_string")
    ) + "".join(str(edit.get("new_string") or "") for edit in tool_input.get("edits") or [])
    for path in _candidates(raw, cwd):
        reason = secret_reason(path, new_text)
        if reason is not None:
            print(f"Blocked: {reason}. Secrets are never edited by the assistant.", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
