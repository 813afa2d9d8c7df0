"""``StaffLinkedCalendars``: the staff page's view of the staff's own Google Calendars
(``core.calendar.linked.LinkedCalendarDesk``): open alerts, stuck pushes, sync states; and
an alert dismissed by whoever may act for its staff member."""

from __future__ import annotations

from core.calendar.linked import AlertNotFound, LinkedCalendarNotices
from core.calendar.ports import Role, StaffUser
from core.calendar.roles import require_may_edit
from core.db.calendar_desk_repository import CalendarDeskRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock


class StaffLinkedCalendars:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def notices(self, user: StaffUser) -> LinkedCalendarNotices:
        if user.role is not Role.OWNER and user.staff_key is None:
            return LinkedCalendarNotices()  # a staff account that is nobody's column
        staff_key = None if user.role is Role.OWNER else user.staff_key
        async with self._uow() as uow:
            return await CalendarDeskRepository(uow.connection).notices(
                self._clock.now(), staff_key
            )

    async def dismiss(self, user: StaffUser, alert_id: int) -> None:
        async with self._uow() as uow:
            alerts = CalendarDeskRepository(uow.connection)
            staff_key = await alerts.open_alert_staff(alert_id)
            if staff_key is None:
                raise AlertNotFound(alert_id)
            require_may_edit(user, staff_key, "dismiss another staff member's calendar alert")
            await alerts.dismiss(alert_id, self._clock.now())
            await uow.commit()
