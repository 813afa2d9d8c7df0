"""``salonbot`` run in this process, as its console script runs it (no new interpreter)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from salonbot.cli import run

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is ``env`` inside, as it was afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def cli_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """This process's environment, with the database and data directory of a test."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=database_url, SALONBOT_DATA_DIR=str(data_dir))
    return env


def salonbot(env: Mapping[str, str], *args: str, typed: str = "") -> tuple[int, str, str]:
    """``salonbot ARGS`` with ``env`` and ``typed`` on stdin: its exit status, what it
    printed and what it wrote to stderr."""
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO(typed)
    try:
        with (
            environment(env),
            contextlib.chdir(ROOT),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = run(list(args))
            except SystemExit as exit_:  # argparse's usage errors and --help
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()
