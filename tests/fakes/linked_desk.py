"""An in-memory ``LinkedCalendarDesk``: open alerts by id, shown to whom they concern and
dismissed by whoever may act for their staff member, as the real one does."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.calendar.linked import (
    AlertNotFound,
    CalendarAlertLine,
    CalendarSyncLine,
    LinkedCalendarNotices,
    StuckPush,
)
from core.calendar.ports import Role, StaffUser
from core.calendar.roles import require_may_edit


@dataclass
class FakeLinkedDesk:
    alerts: dict[int, CalendarAlertLine] = field(default_factory=dict)
    pushes: list[StuckPush] = field(default_factory=list)
    syncs: list[CalendarSyncLine] = field(default_factory=list)

    def add_alert(self, alert: CalendarAlertLine) -> None:
        self.alerts[alert.id] = alert

    async def notices(self, user: StaffUser) -> LinkedCalendarNotices:
        def mine(staff_key: str) -> bool:
            return user.role is Role.OWNER or staff_key == user.staff_key

        return LinkedCalendarNotices(
            alerts=tuple(a for a in self.alerts.values() if mine(a.staff_key)),
            pushes=tuple(p for p in self.pushes if mine(p.staff_key)),
            syncs=tuple(s for s in self.syncs if mine(s.staff_key)),
        )

    async def dismiss(self, user: StaffUser, alert_id: int) -> None:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        require_may_edit(user, alert.staff_key, "dismiss another staff member's calendar alert")
        del self.alerts[alert_id]

    def open_alerts(self) -> list[int]:
        return sorted(self.alerts)
