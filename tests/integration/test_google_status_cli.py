"""``salonbot google status``: one line per linked calendar from what the database holds
(read-back state, push channel, pushes waiting, failing and parked, open alerts), exit 1
while a push is parked or reading back keeps failing; no secret in it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from core.catalog.file import load_catalog_text
from core.db.tables import calendar_pushes, calendar_syncs, staff
from core.domain.availability import SlotQuery
from core.domain.booking import Actor, Booking
from core.services.calendar_alerts import AlertKind, raise_alert
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import edited, put
from tests.cli_run import cli_environment, salonbot
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars

MARIA = "maria@group.calendar.google.com"
OLGA = "olga@group.calendar.google.com"
DIGEST = "5e3f1c0ffee0ddba11"  # a push channel token's digest: never shown


async def _status(env: dict[str, str]) -> tuple[int, str, str]:
    return await asyncio.to_thread(salonbot, env, "google", "status")


async def _stored(app: Salonbot, key: str, **values: object) -> None:
    async with app.engine.begin() as connection:
        staff_id = await connection.scalar(select(staff.c.id).where(staff.c.key == key))
        await connection.execute(
            insert(calendar_syncs).values(staff_id=staff_id, calendar_id=f"{key}@x", **values)
        )


async def test_each_linked_calendar_gets_a_line_and_a_parked_push_or_failing_read_exits_1(
    app: Salonbot, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    # The command runs on the real clock: so do the data, a visit soon after now.
    clock.set(datetime.now(UTC).replace(microsecond=0))
    text = edited(
        put("staff", 1, "google_calendar", value=MARIA),
        put("staff", 2, "google_calendar", value=OLGA),
    )
    await load_catalog(app.uow, clock, load_catalog_text(text)[0])
    calendars = FakeLinkedCalendars()
    pushing = Salonbot(app.engine, clock, linked_calendars=calendars)
    today = clock.now().date()
    booked: dict[str, Booking] = {}
    for key in ("maria", "olga"):
        query = SlotQuery("manicure", today, today + timedelta(days=14), key)
        [first, *_] = await app.find_slots(query)
        booked[key] = await pushing.bookings.book(
            "manicure", first.start, Actor.staff("owner"), staff_key=key
        )
    calendars.refuse_next(1, "calendar not found or not shared", transient=False)  # Maria's
    assert pushing.calendar_pusher is not None
    run = await pushing.calendar_pusher.run()
    assert (run.done, run.parked) == (1, 1)
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
        await raise_alert(
            uow.connection,
            catalog,
            staff_key="olga",
            kind=AlertKind.CONFLICT,
            booking_id=booked["olga"].id,
            event_id="dentist",
            detail="",
            at=clock.now(),
        )
        await uow.commit()
    expires = clock.now() + timedelta(days=6)
    await _stored(
        app,
        "maria",
        synced_at=clock.now() - timedelta(hours=2),
        failures=3,
        last_error="Google Calendar did not answer in time",
    )
    await _stored(app, "olga", synced_at=clock.now(), channel_expires_at=expires,
                  channel_token_digest=DIGEST)  # fmt: skip
    env = cli_environment(database_url, tmp_path / "data")

    code, out, err = await _status(env)

    assert code == 1
    maria, olga = out.splitlines()
    assert re.fullmatch(
        rf"maria  {MARIA}  needs attention: reading back failed 3x in a row \(Google Calendar"
        r" did not answer in time\), read back 2 h ago; no push channel;"
        r" pushes: 1 parked \(oldest \d+ s\); no open alerts",
        maria,
    ), maria
    assert re.fullmatch(
        rf"olga  {OLGA}  ok: read back \d+ s ago;"
        rf" push channel until {expires:%Y-%m-%d %H:%M} UTC; pushes: none waiting; 1 open alert",
        olga,
    ), olga
    assert err == (
        "salonbot: 1 of 2 calendars need attention"
        " (a push given up, or reading back keeps failing)\n"
    )
    assert DIGEST not in out + err

    # Maria's calendar is read again, and a later push of her booking settles the parked one.
    async with app.engine.begin() as connection:
        await connection.execute(update(calendar_syncs).values(failures=0, last_error=None))
    await pushing.bookings.cancel(booked["maria"].id, Actor.staff("owner"))
    await pushing.calendar_pusher.run()
    async with app.engine.connect() as connection:
        assert await connection.scalar(
            select(calendar_pushes.c.done_at).where(calendar_pushes.c.parked_at.is_not(None))
        )

    code, out, err = await _status(env)

    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"maria  {MARIA}  ok: read back 2 h ago;")


async def test_without_linked_calendars_it_says_so(
    app: Salonbot, database_url: str, tmp_path: Path
) -> None:
    code, out, err = await _status(cli_environment(database_url, tmp_path / "data"))

    assert (code, out, err) == (0, "no staff member has a google_calendar in the catalog\n", "")
