"""What the API's routes share: the ports it reaches the core by, and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from core.calendar.desk import CustomerBook, FrontDesk
from core.calendar.ports import Accounts, Calendar
from core.ports import Clock


@dataclass(frozen=True)
class ApiSide:
    """The ports behind ``/api/v1``; ``clock`` for how long a throttled client waits."""

    accounts: Accounts
    calendar: Calendar
    desk: FrontDesk
    customers: CustomerBook
    clock: Clock
