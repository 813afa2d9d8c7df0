"""``/readyz``'s look at the database, answered within a bound.

A database that hangs (frozen, or a lock in the way) must not hang the probe: past the
bound the answer is "not ready". One look runs at a time; probes arriving meanwhile wait
for the same look (bounded too) instead of piling more connections onto a stuck server.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

ANSWER_WITHIN = 2.0  # seconds


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    answers: bool
    at_head: bool


NOT_ANSWERING = DatabaseHealth(answers=False, at_head=False)


class DatabaseProbe:
    def __init__(
        self, engine: AsyncEngine, head: str | None, *, within: float = ANSWER_WITHIN
    ) -> None:
        self._engine = engine
        self._head = head
        self._within = within
        self._look: asyncio.Task[DatabaseHealth] | None = None

    async def __call__(self) -> DatabaseHealth:
        if self._look is None or self._look.done():
            self._look = asyncio.create_task(self._look_once())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._within):
                # Shielded: the bound ends this wait, not the look, which later probes share.
                return await asyncio.shield(self._look)
        return NOT_ANSWERING

    async def _look_once(self) -> DatabaseHealth:
        try:
            async with self._engine.connect() as connection:
                version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        except (SQLAlchemyError, OSError):
            return NOT_ANSWERING
        return DatabaseHealth(answers=True, at_head=version == self._head)

    async def close(self) -> None:
        """Stop a look still hanging (at shutdown)."""
        if self._look is not None and not self._look.done():
            self._look.cancel()
            await asyncio.wait([self._look], timeout=1.0)  # its cleanup may hang as well
