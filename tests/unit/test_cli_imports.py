"""The command line starts at once: what a command does not use, it does not import.

Importing aiogram alone took seconds; every ``salonbot --help`` and ``catalog check`` paid
for it until ``salonbot.cli`` imported ``serve`` only where it runs. The timing itself is a
benchmark (``bench/cli_startup.py``); this keeps the imports from creeping back.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHANNEL_LIBRARIES = ("aiogram", "fastapi", "starlette", "uvicorn", "httpx")
DATABASE_LIBRARIES = ("sqlalchemy", "alembic", "asyncpg")

# A fresh interpreter: this test process has long imported everything.
PROBE = """
import json, sys
import salonbot.cli
after_cli = set(sys.modules)
# What `chat`, `migrate`, `catalog load` and `slots` import when they run.
import salonbot.bootstrap, salonbot.config, salonbot.database, salonbot.demo
import salonbot.migrate, salonbot.slots_view, salonbot.terminal_chat
print(json.dumps({"cli": sorted(after_cli), "commands": sorted(sys.modules)}))
"""


def _top_level(modules: list[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_the_cli_and_its_database_commands_import_no_channel_library() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    imported = json.loads(run.stdout)
    cli, commands = _top_level(imported["cli"]), _top_level(imported["commands"])

    assert "core" in cli  # the probe did import the CLI
    assert cli.isdisjoint(CHANNEL_LIBRARIES + DATABASE_LIBRARIES), sorted(
        cli & {*CHANNEL_LIBRARIES, *DATABASE_LIBRARIES}
    )
    assert "sqlalchemy" in commands
    assert commands.isdisjoint(CHANNEL_LIBRARIES), sorted(commands & {*CHANNEL_LIBRARIES})
