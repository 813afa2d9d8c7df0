"""Loading the catalog into Postgres: idempotent, all or nothing, and careful with bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.document import CatalogDocument
from core.catalog.file import load_catalog_text
from core.catalog.problems import CatalogError
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.domain.errors import CatalogRemovalRefused, UnknownService, UnknownStaff
from core.domain.reminders import BeforeVisit, QuietHours, ReminderPolicy
from core.services.catalog import LoadResult, load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import (
    BROKEN,
    DEMO_TEXT,
    Broken,
    Edit,
    demo_data,
    drop,
    edited,
    put,
    without_service,
    without_staff,
)
from tests.db_state import dump_tables
from tests.fakes.clock import FakeClock

# Tuesday 2026-12-08, 11:00 in Berlin (UTC+1); the clock stands at Monday 06:00 UTC.
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_11 = TUESDAY_11 + timedelta(days=1)  # Olga works Mon, Wed, Thu, Fri and Sun
TUESDAY = date(2026, 12, 8)
WEDNESDAY = date(2026, 12, 9)
STAFF = Actor.staff("owner")


async def _load(app: Salonbot, clock: FakeClock, catalog_text: str) -> LoadResult:
    document, _ = load_catalog_text(catalog_text)
    return await load_catalog(app.uow, clock, document)


async def _rows(engine: AsyncEngine, table: str) -> dict[str, tuple[int, bool]]:
    async with engine.connect() as connection:
        # table is one of two fixed names in this module, not input
        result = await connection.execute(text(f"SELECT key, id, active FROM {table}"))
        return {row.key: (row.id, row.active) for row in result}


async def test_loading_the_same_catalog_again_changes_nothing(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    before = await dump_tables(clean_engine)
    clock.advance(timedelta(hours=1))  # a rewrite would show in loaded_at

    result = await _load(app, clock, DEMO_TEXT)

    assert result == LoadResult(changed=False)
    assert await dump_tables(clean_engine) == before
    assert before["salon_catalog"]  # the dump did see the stored catalog


async def test_the_same_catalog_spelt_differently_is_unchanged(
    app: Salonbot, clock: FakeClock
) -> None:
    respelt = DEMO_TEXT.replace("price: 55\n", "price: 55.00\n").replace(
        "duration: 1h\n", "duration: 60\n"
    )
    assert respelt != DEMO_TEXT

    assert (await _load(app, clock, respelt)).changed is False


@pytest.mark.parametrize("case", BROKEN, ids=[case.name for case in BROKEN])
async def test_a_broken_catalog_changes_nothing(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine, case: Broken
) -> None:
    before = await dump_tables(clean_engine)

    with pytest.raises(CatalogError) as error:
        await _load(app, clock, case.text)

    assert error.value.problems == (case.problem,)
    assert await dump_tables(clean_engine) == before


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["staff"][0]["services"].append("nail-art"),
        put("staff", 1, "hours", "sat", value=["10:00-15:00", "14:00-18:00"]),
        put("services", 5, "category", value="eyes"),
    ],
    ids=["unknown service", "overlap", "unknown category"],
)
def test_no_document_that_fails_the_cross_checks_can_be_made_for_load_catalog(
    edit: Edit,
) -> None:
    data = demo_data()
    edit(data)

    # Field-valid, so it gets past pydantic's field checks; the cross-section checks run
    # whenever a CatalogDocument is validated, so load_catalog only ever gets a valid one.
    with pytest.raises(CatalogError):
        CatalogDocument.model_validate(data)


async def test_removing_a_service_with_a_future_booking_is_refused(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    before = await dump_tables(clean_engine)

    with pytest.raises(CatalogRemovalRefused) as refused:
        await _load(
            app, clock, edited(without_service("manicure"), put("salon", "name", value="X"))
        )

    assert refused.value.problems == (
        "service 'manicure' has 1 future booking(s); cancel or move them first",
    )
    assert await dump_tables(clean_engine) == before


async def test_removing_staff_with_future_bookings_is_refused_naming_each(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    await app.bookings.book("pedicure", TUESDAY_11 + timedelta(hours=3), STAFF, staff_key="maria")
    await app.bookings.book("lash-lift", WEDNESDAY_11, STAFF, staff_key="olga")
    before = await dump_tables(clean_engine)

    with pytest.raises(CatalogRemovalRefused) as refused:
        await _load(
            app,
            clock,
            edited(without_staff("maria"), without_staff("olga"), without_service("lash-lift")),
        )

    assert refused.value.problems == (
        "service 'lash-lift' has 1 future booking(s); cancel or move them first",
        "staff member 'maria' has 2 future booking(s); cancel or move them first",
        "staff member 'olga' has 1 future booking(s); cancel or move them first",
    )
    assert "'maria' has 2 future booking(s)" in str(refused.value)
    assert await dump_tables(clean_engine) == before


async def test_a_hold_counts_as_a_future_booking(app: Salonbot, clock: FakeClock) -> None:
    await app.bookings.hold("manicure", WEDNESDAY_11, STAFF, staff_key="olga")

    with pytest.raises(CatalogRemovalRefused, match="'olga' has 1 future booking"):
        await _load(app, clock, edited(without_staff("olga")))


async def test_past_and_cancelled_bookings_do_not_stop_a_removal(
    app: Salonbot, clock: FakeClock
) -> None:
    await app.bookings.book("lash-lift", WEDNESDAY_11, STAFF, staff_key="olga")
    cancelled = await app.bookings.book(
        "lash-lift", WEDNESDAY_11 + timedelta(days=1), STAFF, staff_key="olga"
    )
    await app.bookings.cancel(cancelled.id, STAFF)
    clock.set(WEDNESDAY_11 + timedelta(hours=2))  # the first visit is over

    result = await _load(app, clock, edited(without_service("lash-lift")))

    assert result.removed_services == ("lash-lift",)


async def test_removing_a_service_without_future_bookings_deactivates_it(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    query = SlotQuery("lash-lift", WEDNESDAY, WEDNESDAY)
    assert await app.find_slots(query)
    ids_before = await _rows(clean_engine, "services")

    result = await _load(app, clock, edited(without_service("lash-lift")))

    assert result == LoadResult(changed=True, removed_services=("lash-lift",))
    rows = await _rows(clean_engine, "services")
    assert rows["lash-lift"] == (ids_before["lash-lift"][0], False)
    assert all(active for key, (_, active) in rows.items() if key != "lash-lift")
    with pytest.raises(UnknownService):
        await app.find_slots(query)


async def test_removing_staff_without_future_bookings_deactivates_them(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    manicures = SlotQuery("manicure", WEDNESDAY, WEDNESDAY)
    assert {s.staff_key for s in await app.find_slots(manicures)} == {"maria", "olga"}

    result = await _load(app, clock, edited(without_staff("olga")))

    assert result == LoadResult(changed=True, removed_staff=("olga",))
    assert (await _rows(clean_engine, "staff"))["olga"][1] is False
    assert {s.staff_key for s in await app.find_slots(manicures)} == {"maria"}
    with pytest.raises(UnknownStaff):
        await app.find_slots(SlotQuery("manicure", WEDNESDAY, WEDNESDAY, "olga"))


async def test_adding_back_a_removed_service_and_staff_member_revives_them(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    services_before = await _rows(clean_engine, "services")
    staff_before = await _rows(clean_engine, "staff")
    await _load(app, clock, edited(without_service("lash-lift"), without_staff("olga")))

    result = await _load(app, clock, DEMO_TEXT)

    assert result == LoadResult(changed=True, added_services=("lash-lift",), added_staff=("olga",))
    # the same rows, so their bookings' history stays attached
    assert await _rows(clean_engine, "services") == services_before
    assert await _rows(clean_engine, "staff") == staff_before
    slots = await app.find_slots(SlotQuery("lash-lift", WEDNESDAY, WEDNESDAY, "olga"))
    assert slots


async def test_a_changed_price_applies_to_new_bookings(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    result = await _load(app, clock, edited(put("services", 3, "price", value=45.5)))

    assert result == LoadResult(changed=True)
    booking = await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    async with clean_engine.connect() as connection:
        price = (
            await connection.execute(
                text("SELECT price FROM bookings WHERE id = :id"), {"id": booking.id}
            )
        ).scalar_one()
    assert price == Decimal("45.50")


async def test_changed_hours_apply_to_the_offered_slots(app: Salonbot, clock: FakeClock) -> None:
    maria_tuesday = SlotQuery("manicure", TUESDAY, TUESDAY, "maria")
    first = (await app.find_slots(maria_tuesday))[0].start
    assert first == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # 09:00 in Berlin

    await _load(app, clock, edited(put("staff", 1, "hours", "tue", value=["12:00-18:00"])))

    starts = [slot.start for slot in await app.find_slots(maria_tuesday)]
    assert starts[0] == datetime(2026, 12, 8, 11, 0, tzinfo=UTC)  # 12:00 in Berlin
    # the break went with the old hours
    assert datetime(2026, 12, 8, 12, 0, tzinfo=UTC) in starts


async def test_a_catalog_loaded_elsewhere_is_seen_by_a_running_app(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    query = SlotQuery("manicure", WEDNESDAY, WEDNESDAY)
    assert {s.staff_key for s in await app.find_slots(query)} == {"maria", "olga"}
    other_process = Salonbot(clean_engine, clock)

    await _load(other_process, clock, edited(without_staff("olga")))

    assert {s.staff_key for s in await app.find_slots(query)} == {"maria"}


async def _stored_document(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as connection:
        document = (await connection.execute(text("SELECT document FROM salon_catalog"))).scalar()
    assert isinstance(document, dict)
    return document


async def test_changed_reminders_are_a_change_a_running_app_sees(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    other_process = Salonbot(clean_engine, clock)

    result = await _load(
        other_process,
        clock,
        edited(
            put("reminders", "rules", value=[{"before": "3h"}]),
            put("reminders", "quiet_hours", value="22:00-08:00"),
            put("staff_agenda_at", value="07:30"),
        ),
    )

    assert result.changed is True
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    assert catalog.reminders == ReminderPolicy(
        rules=(BeforeVisit(timedelta(hours=3)),),
        quiet_hours=QuietHours(time(22, 0), time(8, 0)),
        ask_to_confirm=True,
    )
    assert catalog.staff_agenda_at == time(7, 30)
    assert (await _stored_document(clean_engine))["reminders"] == {
        "rules": [{"before": "3h"}],
        "quiet_hours": "22:00-08:00",
        "ask_to_confirm": True,
    }


async def test_the_same_reminders_spelt_differently_are_unchanged(
    app: Salonbot, clock: FakeClock
) -> None:
    respelt = DEMO_TEXT.replace("- before: 24h ", "- before: 1d  ").replace(
        'quiet_hours: "21:00-09:00"', 'quiet_hours: "21:00 - 9:00"'
    )
    assert respelt != DEMO_TEXT

    assert (await _load(app, clock, respelt)).changed is False


async def test_a_catalog_without_reminders_is_stored_without_them_and_sends_nothing_unasked(
    app: Salonbot, clock: FakeClock, clean_engine: AsyncEngine
) -> None:
    plain = edited(drop("reminders"), drop("follow_up"), drop("staff_agenda_at"))

    assert (await _load(app, clock, plain)).changed is True

    stored = await _stored_document(clean_engine)
    assert not {"reminders", "follow_up", "staff_agenda_at"} & set(stored)
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    assert (catalog.reminders, catalog.follow_up, catalog.staff_agenda_at) == (
        ReminderPolicy(),
        None,
        None,
    )
    assert (await _load(app, clock, plain)).changed is False
