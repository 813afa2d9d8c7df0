#!/usr/bin/env python3
"""PostToolUse hook: type-check an edited Python file under src/ or tests/.

Runs mypy on that one file with the project's configuration (pyproject.toml). On errors
it exits 2 with them on stderr, which Claude Code feeds back; otherwise it is silent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT_SECONDS = 120


def _project() -> Path:
    return Path(os.environ.get("CLAUDE_PROJECT_DIR") or Path(__file__).resolve().parents[2])


def _target(event: dict[str, object], project: Path) -> Path | None:
    tool_input = event.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    raw = tool_input.get("file_path")
    if not isinstance(raw, str) or not raw.endswith(".py"):
        return None
    path = Path(raw)
    if not path.is_absolute():
        path = Path(str(event.get("cwd") or project)) / path
    path = Path(os.path.realpath(path))
    try:
        relative = path.relative_to(project.resolve())
    except ValueError:
        return None
    if relative.parts[:1] not in (("src",), ("tests",)) or not path.is_file():
        return None
    return relative


def main() -> int:
    try:
        event = json.load(sys.stdin)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"typecheck: unreadable hook input: {error}", file=sys.stderr)
        return 1
    project = _project()
    target = _target(event, project) if isinstance(event, dict) else None
    if target is None:
        return 0
    uv = shutil.which("uv")
    command = (
        [uv, "run", "--frozen", "--quiet", "mypy", str(target)]
        if uv
        else [sys.executable, "-m", "mypy", str(target)]
    )
    try:
        result = subprocess.run(  # noqa: S603 - fixed command, path from the project
            command, cwd=project, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        print(f"typecheck: mypy took over {TIMEOUT_SECONDS}s on {target}", file=sys.stderr)
        return 1
    if result.returncode == 0:
        return 0
    print(f"mypy found problems in {target}:\n{result.stdout}{result.stderr}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
