"""Wiring: one object holding the engine and the use cases built on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock, SystemClock
from core.services.availability import FindSlots
from core.services.booking import Bookings
from core.services.catalog import CatalogReader
from core.services.converse import Converse
from core.services.outbox import DeliverInProcess
from core.services.time_off import AddTimeOff


@dataclass
class Salonbot:
    """The core use cases over one database engine."""

    engine: AsyncEngine
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.uow = UnitOfWorkFactory(self.engine)
        self.catalogs = CatalogReader()
        self.find_slots = FindSlots(self.uow, self.clock, self.catalogs)
        self.bookings = Bookings(self.uow, self.clock, self.catalogs)
        self.add_time_off = AddTimeOff(self.uow, self.clock)
        self.converse = Converse(self.uow, self.clock, self.catalogs, self.find_slots)
        self.deliver_in_process = DeliverInProcess(self.uow, self.clock)

    async def close(self) -> None:
        await self.engine.dispose()
