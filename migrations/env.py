"""Alembic environment (async, asyncpg).

The URL comes from ``config.attributes["url"]`` when salonbot runs migrations itself, or
from salonbot's settings when a developer runs the ``alembic`` command.
"""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.db.tables import metadata

# Any fixed number: two processes migrating at once take turns on it.
MIGRATION_LOCK = 0x5A10B07

config = context.config
if config.config_file_name is not None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    from salonbot.config import Settings
    from salonbot.database import asyncpg_url, locate

    url = config.attributes.get("url")
    if url is None:
        url = locate(Settings()).url
        config.attributes["url"] = url
    return asyncpg_url(url)


def _run(connection: Connection) -> None:
    # A transaction-scoped lock: it is held until the migrations commit (or roll back),
    # so a second process waits and then finds the schema already at head.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
