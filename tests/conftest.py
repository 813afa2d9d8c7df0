"""Shared fixtures. Database tests run on a real Postgres server:

* ``TEST_DATABASE_URL`` (a ``postgresql://`` URL) when set, e.g. this machine's server;
* otherwise an embedded Postgres (pgserver) started once per test session in a temp dir.

Either way the session gets a fresh database of its own, migrated to head, dropped at the end;
each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.tables import metadata
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine, start_embedded, with_database
from salonbot.migrate import upgrade
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CATALOG = ROOT / "examples" / "salon.yaml"


DATABASE_FIXTURES = {"engine", "clean_engine", "database_url", "app", "fresh_database"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if "integration" in item.path.parts or uses_database:
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A maintenance URL of the Postgres server the tests may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Not under pytest's own temporary directory: a second pytest session started on the
    # machine meanwhile prunes the oldest of those, this server's data with them.
    data = Path(tempfile.mkdtemp(prefix="salonbot-test-pg-"))
    try:
        location = start_embedded(data)
        yield with_database(location.url, "postgres")
        location.server.cleanup()
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[object]:
    """A factory of empty databases on the test server, all dropped at the session's end."""
    created: list[str] = []

    def make() -> str:
        name = f"salonbot_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
        created.append(name)
        return with_database(server_url, name)

    yield make
    for name in created:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(fresh_database) -> str:  # type: ignore[no-untyped-def]
    url: str = fresh_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=30)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_engine(engine: AsyncEngine) -> AsyncEngine:
    """The session engine over empty tables."""
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def clock() -> FakeClock:
    # A Monday morning in Berlin, well before the demo salon opens.
    return FakeClock(datetime(2026, 12, 7, 6, 0, tzinfo=UTC))


@pytest.fixture
async def app(clean_engine: AsyncEngine, clock: FakeClock) -> Salonbot:
    """The core use cases over empty tables with the demo catalog loaded."""
    salonbot = Salonbot(clean_engine, clock)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salonbot.uow, clock, document)
    return salonbot
