"""Another session holding tables locked: a database that hangs for the code under test
(its queries wait), while the server itself answers everyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def locked(database_url: str, tables: str) -> AsyncIterator[None]:
    """Another session holds ``tables`` (comma-separated) locked against everyone until
    the block ends."""
    connection = await asyncpg.connect(database_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
