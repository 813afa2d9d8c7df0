"""Schema migrations through Alembic: every command brings the schema to head on start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

_PACKAGE = Path(__file__).resolve().parent


def migrations_directory() -> Path:
    """The Alembic scripts: inside the installed package (the wheel carries them there, see
    pyproject.toml), else in the source tree's ``migrations/`` (a checkout, an editable install)."""
    installed = _PACKAGE / "migrations"
    return installed if installed.is_dir() else _PACKAGE.parents[1] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url``; safe to run from several processes at once."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_in_thread(url: str, revision: str = "head") -> None:
    """``upgrade`` from inside a running event loop (Alembic's env runs its own loop)."""
    await asyncio.to_thread(upgrade, url, revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The newest revision the code ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every revision the code ships (a database at any of them can be upgraded)."""
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
