"""The unit of work: one database transaction, owned by the use case that opens it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction


class UnitOfWork:
    """``async with uow:`` opens a transaction; it is rolled back unless ``commit`` ran.

    Repositories receive ``uow.connection`` and never commit themselves.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    async def __aenter__(self) -> Self:
        self._connection = await self._engine.connect()
        await self._connection.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self.connection, None
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()

    async def commit(self) -> None:
        await self.connection.commit()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use-case call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.engine)


class NestedUnitOfWork(UnitOfWork):
    """A unit of work inside a transaction that is already open: a savepoint.

    ``commit`` releases the savepoint, leaving its work to the outer transaction's
    commit; leaving without ``commit`` rolls back to the savepoint only. This lets a use
    case that composes others (``converse`` calls ``hold``, ``confirm``, ...) keep one
    transaction for the whole step without the composed use cases knowing.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._outer = connection
        self._savepoint: AsyncTransaction | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._savepoint is None:
            raise RuntimeError("the unit of work is not open")
        return self._outer

    async def __aenter__(self) -> Self:
        self._savepoint = await self._outer.begin_nested()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None and savepoint.is_active:
            await savepoint.rollback()

    async def commit(self) -> None:
        if self._savepoint is None:
            raise RuntimeError("the unit of work is not open")
        await self._savepoint.commit()


class NestedUnitOfWorkFactory(UnitOfWorkFactory):
    """Units of work that are savepoints of one open connection's transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection.engine)
        self._connection = connection

    def __call__(self) -> UnitOfWork:
        return NestedUnitOfWork(self._connection)
