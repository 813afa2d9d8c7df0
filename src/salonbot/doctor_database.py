"""The doctor's look at the database: reachable, schema at head, catalog loaded, and this
machine's clock against the database's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.catalog import Catalog
from core.ports import Clock
from core.services.catalog import CatalogNotLoaded, CatalogReader
from salonbot.database import TimeLimits, make_engine
from salonbot.doctor import Finding, Status
from salonbot.migrate import head_revision

# Bookings, holds and reminders are stamped with this machine's time and compared with the
# database's: further apart than this, a hold lapses early or a reminder goes late.
SKEW_LIMIT = timedelta(seconds=5)


@dataclass
class DatabaseLook:
    findings: list[Finding] = field(default_factory=list)
    catalog: Catalog | None = None


async def look_at_database(url: str, clock: Clock, within: float) -> DatabaseLook:
    look = DatabaseLook()
    engine = make_engine(url, pool_size=1, limits=TimeLimits(command=within, statement=within))
    try:
        async with asyncio.timeout(within):
            async with engine.connect() as connection:
                look.findings.append(await _schema(connection))
                look.findings.append(await _clock(connection, clock))
                look.catalog, finding = await _catalog(connection)
                look.findings.append(finding)
    except TimeoutError:
        look.findings.append(_unreachable(f"no answer within {within:g} s"))
    except DBAPIError as error:
        look.findings.append(_unreachable(" ".join(str(error.orig).split())))
    except (OSError, ValueError, TypeError, SQLAlchemyError) as error:
        # None of these messages quote the URL (which may hold a password); the lines are
        # masked anyway.
        look.findings.append(
            _unreachable(f"{type(error).__name__}: {' '.join(str(error).split())}")
        )
    finally:
        await engine.dispose()
    done = {finding.check for finding in look.findings}
    for check in ("clock", "catalog"):
        if check not in done:
            look.findings.append(Finding(check, Status.SKIP, "needs the database"))
    return look


def _unreachable(why: str) -> Finding:
    return Finding("database", Status.FAIL, f"cannot use it: {why}")


async def _schema(connection: AsyncConnection) -> Finding:
    head = head_revision()
    try:
        async with connection.begin_nested():
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no alembic_version: nothing was ever migrated here
        revision = None
    if revision == head:
        return Finding("database", Status.OK, f"reachable, schema at head ({head})")
    found = "no schema yet" if revision is None else f"the schema is at {revision}"
    return Finding(
        "database",
        Status.FAIL,
        f"reachable, but {found} and this salonbot needs {head}: run `salonbot migrate`"
        " (serve also migrates when it starts)",
    )


async def _clock(connection: AsyncConnection, clock: Clock) -> Finding:
    before = clock.now()
    database_now: datetime = await connection.scalar(text("SELECT clock_timestamp()"))
    after = clock.now()
    # The database read its clock between our two readings: compare with the middle
    # (clock_timestamp, not now(), which is when the transaction began).
    ours = before + (after - before) / 2
    skew = (ours - database_now).total_seconds()
    side = "ahead of" if skew > 0 else "behind"
    detail = f"{abs(skew):.1f} s {side} the database's"
    if abs(skew) <= SKEW_LIMIT.total_seconds():
        return Finding("clock", Status.OK, detail)
    return Finding(
        "clock",
        Status.FAIL,
        f"{detail} (at most {SKEW_LIMIT.total_seconds():g} s): holds and reminders come"
        " early or late; keep both clocks in time (NTP: `timedatectl status`)",
    )


async def _catalog(connection: AsyncConnection) -> tuple[Catalog | None, Finding]:
    try:
        async with connection.begin_nested():
            catalog = await CatalogReader().current(connection)
    except CatalogNotLoaded as error:
        return None, Finding("catalog", Status.FAIL, str(error))
    except DBAPIError as error:
        why = " ".join(str(error.orig).split())
        return None, Finding("catalog", Status.FAIL, f"cannot read it: {why}")
    detail = f"{catalog.salon.name}: {len(catalog.services)} services, {len(catalog.staff)} staff"
    return catalog, Finding("catalog", Status.OK, detail)
