"""Which failures blame the database (retry later) and which blame the work (give up),
told from real errors of a real Postgres server."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db.database_away import database_away
from salonbot.database import asyncpg_url


async def _error_of(engine: AsyncEngine, *statements: str) -> BaseException:
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    except Exception as error:
        return error
    raise AssertionError("the statements did not fail")


@pytest.mark.parametrize(
    "statements",
    [
        ("SELECT 1 / 0",),  # 22012
        ("SELECT chr(0)",),  # 54000: a NUL never fits in text
        ("CREATE TEMP TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1), (1)"),  # 23505
        ("SELEC 1",),  # 42601
    ],
    ids=["division by zero", "a NUL in text", "a unique key twice", "a syntax error"],
)
async def test_an_error_of_the_statement_or_its_data_blames_the_work(
    clean_engine: AsyncEngine, statements: tuple[str, ...]
) -> None:
    assert not database_away(await _error_of(clean_engine, *statements))


async def test_a_statement_cancelled_by_its_time_limit_blames_the_database(
    clean_engine: AsyncEngine,
) -> None:
    error = await _error_of(clean_engine, "SET statement_timeout = '10ms'", "SELECT pg_sleep(1)")
    assert database_away(error)  # 57014: the same work may well pass when the server is idle


async def test_a_session_the_server_ended_blames_the_database(clean_engine: AsyncEngine) -> None:
    async with clean_engine.connect() as victim:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        async with clean_engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as ended:
            await victim.execute(text("SELECT 1"))
    assert database_away(ended.value)


async def test_a_pool_with_no_connection_to_spare_blames_the_database(database_url: str) -> None:
    engine = create_async_engine(
        asyncpg_url(database_url), pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    try:
        async with engine.connect() as busy:
            await busy.execute(text("SELECT 1"))
            error = await _error_of(engine, "SELECT 1")
    finally:
        await engine.dispose()
    assert database_away(error)


def test_an_error_raised_before_reaching_the_database_blames_the_work() -> None:
    assert not database_away(ValueError("a value the driver cannot encode"))
    assert database_away(ConnectionRefusedError())
    assert database_away(TimeoutError())
