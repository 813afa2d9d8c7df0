"""Delivery reports: what a platform says happened to the messages it took."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text

from core.db.outbox_repository import OutboxRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import DeliveryReport

log = logging.getLogger("salonbot.outbox")

# A little past the webhook's 2 s bound: a lock let go just after the 503 still lets the
# reports be kept, and a lock held for long frees the connection soon.
WAIT_FOR_LOCKS = text("SET LOCAL lock_timeout = '3s'")


class RecordDeliveries:
    """Keep a batch of reports in one transaction; older news than what is kept is skipped."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    async def __call__(self, reports: Sequence[DeliveryReport]) -> int:
        """How many reports changed a message."""
        if not reports:
            return 0
        changed = 0
        async with self._uow() as uow:
            # A webhook waits for this: a lock held on an outgoing message (a long send's
            # record, a migration) must end the wait soon, not hold a pooled connection.
            await uow.connection.execute(WAIT_FOR_LOCKS)
            repository = OutboxRepository(uow.connection)
            for report in reports:
                if await repository.record_delivery(report):
                    changed += 1
                if report.status == "failed":
                    log.error(
                        "outbound failed after sending",
                        extra={
                            "channel": report.channel,
                            "platform_message_id": report.platform_message_id,
                            "error": report.error,
                        },
                    )
            await uow.commit()
        return changed
