"""Loading the catalog file into the database, and reading the current catalog back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.catalog.document import CatalogDocument
from core.catalog.file import catalog_from_canonical
from core.db.booking_repository import BookingRepository
from core.db.catalog_repository import CatalogRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.domain.errors import CatalogRemovalRefused, DomainError
from core.ports import Clock
from core.services.holds import expire_lapsed_holds
from core.services.reminders import reminders_changed, replan_upcoming


class CatalogNotLoaded(DomainError):
    def __init__(self) -> None:
        super().__init__("no catalog is loaded yet: run `salonbot catalog load FILE`")


def digest_of(canonical: Mapping[str, Any]) -> str:
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


class CatalogReader:
    """The current catalog, parsed once per stored version (keyed by its digest)."""

    def __init__(self) -> None:
        self._cached: tuple[str, Catalog] | None = None

    async def current(self, connection: AsyncConnection) -> Catalog:
        repository = CatalogRepository(connection)
        digest = await repository.digest()
        if digest is None:
            raise CatalogNotLoaded()
        if self._cached is not None and self._cached[0] == digest:
            return self._cached[1]
        stored = await repository.stored()
        assert stored is not None
        catalog = catalog_from_canonical(stored[1])
        self._cached = (stored[0], catalog)
        return catalog


@dataclass(frozen=True, slots=True)
class LoadResult:
    changed: bool
    added_services: tuple[str, ...] = ()
    removed_services: tuple[str, ...] = ()
    added_staff: tuple[str, ...] = ()
    removed_staff: tuple[str, ...] = ()


async def load_catalog(
    uow_factory: UnitOfWorkFactory, clock: Clock, document: CatalogDocument
) -> LoadResult:
    """Apply a validated catalog in one transaction; loading the same catalog again is a no-op.

    Services and staff missing from the new catalog are deactivated (their past bookings
    keep their history), and the upcoming visits' reminders and follow-ups are planned by
    the new settings; if any of them still has future active bookings, nothing is
    applied and ``CatalogRemovalRefused`` names them.
    """
    catalog = document.catalog
    canonical = document.canonical()
    digest = digest_of(canonical)
    async with uow_factory() as uow:
        repository = CatalogRepository(uow.connection)
        await repository.lock()
        if await repository.digest() == digest:
            return LoadResult(changed=False)
        stored = await repository.stored()
        before = None if stored is None else catalog_from_canonical(stored[1])
        await repository.lock_all_staff()
        now = clock.now()
        # A lapsed hold is no future booking: sweep them so they neither block a removal
        # nor get confirmed later for a service or staff member that is gone.
        await expire_lapsed_holds(BookingRepository(uow.connection), now)
        old_services = await repository.active_service_keys()
        old_staff = await repository.active_staff()
        gone_services = old_services - set(catalog.services)
        gone_staff = set(old_staff) - set(catalog.staff)
        problems = [
            f"service {key!r} has {count} future booking(s); cancel or move them first"
            for key, count in sorted(
                (await repository.future_bookings_of_services(gone_services, now)).items()
            )
        ] + [
            f"staff member {key!r} has {count} future booking(s); cancel or move them first"
            for key, count in sorted(
                (await repository.future_bookings_of_staff(gone_staff, now)).items()
            )
        ]
        if problems:
            raise CatalogRemovalRefused(problems)
        await repository.upsert_services(catalog.services)
        await repository.upsert_staff({key: m.name for key, m in catalog.staff.items()})
        await repository.deactivate_services(gone_services)
        await repository.deactivate_staff(gone_staff)
        await repository.save(canonical, digest, now)
        if before is None or reminders_changed(before, catalog):
            # Every upcoming visit is planned anew (thousands take seconds: only when the
            # settings that decide the times changed).
            await replan_upcoming(uow.connection, catalog, now)
        await uow.commit()
    return LoadResult(
        changed=True,
        added_services=tuple(sorted(set(catalog.services) - old_services)),
        removed_services=tuple(sorted(gone_services)),
        added_staff=tuple(sorted(set(catalog.staff) - set(old_staff))),
        removed_staff=tuple(sorted(gone_staff)),
    )
