"""The database's state for tests: every row of every table (to prove that an operation
changed nothing), the rows of a query, and sessions cut as a network fault would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.tables import metadata

State = dict[str, list[tuple[Any, ...]]]


async def dump_tables(engine: AsyncEngine) -> State:
    """All rows of the schema's tables, each table ordered by its primary key."""
    state: State = {}
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            state[table.name] = [tuple(row) for row in await connection.execute(query)]
    return state


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    """The rows a query returns, as plain tuples."""
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def cut_sessions_in_a_transaction(engine: AsyncEngine) -> int:
    """Terminate, server side, every other session of this database that is idle inside a
    transaction (a worker holding rows between two statements); how many."""
    async with engine.connect() as connection:
        cut = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state = 'idle in transaction'"
            )
        )
    return int(cut or 0)
