"""Settings: the only module that reads the environment (and ``.env``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything salonbot reads from its environment.

    ``DATABASE_URL`` unset means an embedded Postgres under ``SALONBOT_DATA_DIR``.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(
        default=Path(".salonbot"),
        validation_alias=AliasChoices("SALONBOT_DATA_DIR", "data_dir"),
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ValueError("must be a postgresql:// URL (salonbot runs on Postgres only)")
        return value


def system_language() -> str | None:
    """The language the user's environment asks for (``LC_ALL``, ``LC_MESSAGES``, ``LANG``)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value
    return None
