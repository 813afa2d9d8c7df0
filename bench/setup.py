"""A throwaway benchmark database and salon, on the embedded Postgres or ``BENCH_DATABASE_URL``."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from core.catalog.file import load_catalog_text
from core.ports import Clock
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine, start_embedded, with_database
from salonbot.migrate import upgrade_in_thread

# A Monday morning; the benchmarks' clock never moves.
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)

FIVE_STAFF = """
salon: {name: Bench, timezone: Europe/Berlin, languages: [en], currency: EUR}
policies: {min_notice: 1h, booking_horizon: 90d, slot_step: 15m, hold_ttl: 10m}
services:
  - {id: cut, name: {en: Cut}, duration: 45m, price: 30, buffer_after: 15m}
staff:
""" + "".join(
    f"""  - id: s{i}
    name: Stylist {i}
    services: [cut]
    hours:
      mon: [{{from: "09:00", to: "19:00", breaks: ["13:00-13:30"]}}]
      tue: [{{from: "09:00", to: "19:00", breaks: ["13:00-13:30"]}}]
      wed: [{{from: "09:00", to: "19:00", breaks: ["13:00-13:30"]}}]
      thu: [{{from: "09:00", to: "19:00", breaks: ["13:00-13:30"]}}]
      fri: [{{from: "09:00", to: "19:00", breaks: ["13:00-13:30"]}}]
      sat: ["10:00-16:00"]
"""
    for i in range(1, 6)
)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@contextlib.asynccontextmanager
async def bench_salon(
    pool_size: int = 10, *, catalog: str = FIVE_STAFF, clock: Clock | None = None
) -> AsyncIterator[Salonbot]:
    """A migrated fresh database with ``catalog`` (the five-stylist salon) loaded; dropped
    afterwards. ``clock``: the benchmark's fixed clock unless given."""
    server_url = os.environ.get("BENCH_DATABASE_URL")
    location = None
    if not server_url:
        location = start_embedded(Path(tempfile.mkdtemp(prefix="salonbot-bench-")))
        server_url = with_database(location.url, "postgres")
    name = f"salonbot_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        await upgrade_in_thread(url)
        app = Salonbot(make_engine(url, pool_size=pool_size), clock or FixedClock())
        document, _ = load_catalog_text(catalog)
        await load_catalog(app.uow, app.clock, document)
        try:
            yield app
        finally:
            await app.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if location is not None:
            location.server.cleanup()


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    """Wall-clock milliseconds of ``runs`` sequential calls."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):8.2f} ms  p90 {p90:8.2f} ms  (n={len(ordered)})"
