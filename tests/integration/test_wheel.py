"""The package a salon installs: a wheel built from this repository, in a fresh virtual
environment, away from the source tree, migrates a database and chats with the demo salon."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Building and installing takes a while (the dependencies come from uv's cache): it is a
# test of packaging, which the rest of the suite never exercises.
pytestmark = pytest.mark.slow


def _uv() -> str:
    # `uv run` tells its children where uv is; otherwise the one on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build and install the wheel"
    return uv


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, typed: str | None = None
) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        argv, cwd=cwd, env=env, input=typed, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, f"{argv}: {run.stdout}\n{run.stderr}"
    return run


def _outside_the_repo(database_url: str, venv: Path) -> dict[str, str]:
    """The environment of a salon's shell: the installed salonbot, nothing of this checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV", "VIRTUAL_ENV", "PYTHON")) and key != "DATABASE_URL"
    }
    env.update(DATABASE_URL=database_url, PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return env


def test_the_installed_wheel_migrates_and_chats_with_the_demo_salon(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    uv = _uv()
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "salon"
    elsewhere.mkdir()
    _run([uv, "build", "--wheel", "--out-dir", str(dist)], cwd=ROOT)
    (wheel,) = dist.glob("salonbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        packaged_demo = archive.read("salonbot/demo_salon.yaml")
    assert {"core/__init__.py", "adapters/__init__.py", "salonbot/migrations/env.py"} <= names
    assert any(name.startswith("salonbot/migrations/versions/") for name in names)
    # One demo catalog: the wheel carries the repository's example itself.
    assert packaged_demo == (ROOT / "examples" / "salon.yaml").read_bytes()

    # The locked versions, so the install is what `uv sync` tested, taken from uv's cache.
    requirements = tmp_path / "requirements.txt"
    _run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
         "--output-file", str(requirements)],
        cwd=ROOT,
    )  # fmt: skip
    _run([uv, "venv", "--python", sys.executable, str(venv)], cwd=elsewhere)
    python = str(venv / "bin" / "python")
    _run([uv, "pip", "install", "--python", python, "-r", str(requirements), str(wheel)], elsewhere)

    url = fresh_database()
    env = _outside_the_repo(url, venv)
    where = _run([python, "-c", "import salonbot; print(salonbot.__file__)"], elsewhere, env)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    migrate = _run(["salonbot", "migrate"], elsewhere, env)
    assert migrate.stdout == "database schema is at head\n"
    # What `salonbot chat` loads into an empty database, read by the installed package.
    shown = "import sys, salonbot.demo as d; sys.stdout.write(d.demo_catalog_text())"
    demo_text = _run([python, "-c", shown], elsewhere, env)
    assert demo_text.stdout == (ROOT / "examples" / "salon.yaml").read_text(encoding="utf-8")
    demo = _run([python, "-c", "import salonbot.demo as d; print(d.__file__)"], elsewhere, env)
    demo_file = Path(demo.stdout.strip()).parent / "demo_salon.yaml"
    load = _run(["salonbot", "catalog", "load", str(demo_file)], elsewhere, env)
    assert "services added:" in load.stdout
    # Book, Nails, Manicure, Maria, the third open day, its first time, Confirm.
    chat = _run(["salonbot", "chat"], elsewhere, env, typed="1\n2\n1\n2\n3\n1\n1\n/quit\n")
    assert "Hello! Welcome to Studio Lumen." in chat.stdout
    assert "Booked! See you soon." in chat.stdout
