"""Calendar alerts on Postgres, through asyncpg's prepared statements: an alert is
recorded however many times one connection has run the insert before."""

from __future__ import annotations

from core.catalog.file import load_catalog_text
from core.services.calendar_alerts import AlertKind, raise_alert
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.db_state import rows


async def test_alerts_are_raised_however_often_one_connection_raises_them(app: Salonbot) -> None:
    """The conflict's partial unique index is found on every run of the prepared insert,
    past Postgres's switch to a generic plan (after five)."""
    catalog = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))[1]
    async with app.uow() as uow:
        for kind in [AlertKind.REVERTED] * 7 + [AlertKind.CONFLICT] * 2:
            await raise_alert(
                uow.connection, catalog, staff_key="maria", kind=kind, booking_id=None,
                event_id="sb0123456789", detail="", at=app.clock.now(),
            )  # fmt: skip
        await uow.commit()

    assert await rows(
        app.engine, "SELECT kind, count(*) FROM calendar_alerts GROUP BY kind ORDER BY kind"
    ) == [
        ("conflict", 2),  # a booking id of None never conflicts with another
        ("reverted", 7),
    ]
