"""Every row of every table, to prove that an operation changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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
