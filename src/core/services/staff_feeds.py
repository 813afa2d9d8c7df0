"""``StoredStaffFeeds``: staff members' calendar feed links (``core.calendar.feeds``).

A link carries a random token; only its SHA-256 is stored, so a copy of the database opens
no feed. A token is found by its digest (an index lookup: what its timing could tell is
about the digest, which a guesser cannot steer) and then compared in constant time.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from core.calendar.feeds import (
    MAX_FEED_TOKEN,
    PAST_DAYS,
    FeedLink,
    FeedVisit,
    StaffFeed,
)
from core.calendar.ports import StaffUser
from core.calendar.roles import require_may_edit
from core.db.staff_feed_repository import FeedRow, StaffFeedRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.domain.errors import UnknownStaff
from core.ports import Clock
from core.services.catalog import CatalogNotLoaded, CatalogReader

COMMAND_LINE = "cli"  # who made a link from the command line


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StoredStaffFeeds:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, catalogs: CatalogReader
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs

    async def staff_name(self, staff_key: str) -> str:
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
        return catalog.member(staff_key).name

    async def new_link(self, user: StaffUser | None, staff_key: str) -> FeedLink:
        if user is not None:
            require_may_edit(user, staff_key, "a feed link of another staff member")
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            member = catalog.member(staff_key)
            repository = StaffFeedRepository(uow.connection)
            staff_id = await repository.staff_id(member.key)
            if staff_id is None:
                raise UnknownStaff(staff_key)
            made_by = COMMAND_LINE if user is None else user.email
            await repository.replace(staff_id, token_digest(token), self._clock.now(), made_by)
            await uow.commit()
        return FeedLink(member.key, member.name, token)

    async def stop_link(self, user: StaffUser | None, staff_key: str) -> bool:
        if user is not None:
            require_may_edit(user, staff_key, "a feed link of another staff member")
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            member = catalog.member(staff_key)
            repository = StaffFeedRepository(uow.connection)
            staff_id = await repository.staff_id(member.key)
            if staff_id is None:
                raise UnknownStaff(staff_key)
            stopped = await repository.remove(staff_id)
            await uow.commit()
        return stopped

    async def feed(self, token: str) -> StaffFeed | None:
        if not 0 < len(token) <= MAX_FEED_TOKEN:
            return None
        digest = token_digest(token)
        async with self._uow() as uow:
            repository = StaffFeedRepository(uow.connection)
            found = await repository.holder(digest)
            if found is None or not secrets.compare_digest(found[1], digest):
                return None
            try:
                catalog = await self._catalogs.current(uow.connection)
            except CatalogNotLoaded:
                return None
            member = catalog.staff.get(found[0])
            if member is None:
                return None  # no longer in the catalog: their link ends with them
            now = self._clock.now()
            since = now - timedelta(days=PAST_DAYS)
            until = now + catalog.salon.policies.booking_horizon + timedelta(days=1)
            rows = await repository.visits(member.key, since, until)
        return StaffFeed(
            salon_name=catalog.salon.name,
            staff_key=member.key,
            staff_name=member.name,
            visits=tuple(_visit(catalog, row) for row in rows),
        )


def _visit(catalog: Catalog, row: FeedRow) -> FeedVisit:
    service = catalog.services.get(row.service_key)
    language = catalog.salon.default_language
    return FeedVisit(
        booking_id=row.booking_id,
        version=row.version,
        start=row.start,
        end=row.end,
        service_name=service.name(language) if service is not None else row.service_key,
        customer=first_name(row.customer_name),
        status=row.status,
        changed_at=row.changed_at,
    )


def first_name(name: str) -> str:
    """The first word of a customer's name (at most 40 characters)."""
    words = name.split()
    return words[0][:40] if words else ""
