"""The demo salon's week as the browser tests and the screenshots see it: the catalog of
``examples/salon.yaml`` (loaded by the ``app`` fixture, or by ``bench/screenshots.py``), a
few customers from Telegram, WhatsApp and the front desk, their bookings, and the
accounts that sign in: an owner and Anna (a staff user).

Everything goes through the real use cases (``Bookings.book``, ``StaffAccounts.add``), so
what the pages show is what the salon would have stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.calendar.ports import Role
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor, Booking
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
# Every booking is made from Monday morning, before the week begins: the customers' bookings
# need the catalog's two hours' notice.
MONDAY = date(2026, 12, 7)
BOOKED_AT = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # Monday 06:00 in Berlin
WEDNESDAY = date(2026, 12, 9)
# The tests' "now": Wednesday 07:00 in Berlin (06:00 UTC), before anyone starts work.
MORNING = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)

OWNER = "owner@salon.test"
ANNA = "anna@salon.test"
PASSWORD = "a long enough password"  # a test account's; not a secret


@dataclass(frozen=True)
class Visit:
    """A booking of the demo week: who, what, with whom, at what local time."""

    customer: str
    channel: str  # "telegram", "whatsapp", or "" for the front desk (a walk-in or a call)
    service: str
    staff: str
    day: date
    at: time
    phone: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, self.at, BERLIN).astimezone(UTC)


_MON, _TUE, _WED = MONDAY, MONDAY + timedelta(days=1), WEDNESDAY
_THU, _FRI, _SAT = (MONDAY + timedelta(days=n) for n in (3, 4, 5))

# Wednesday's four are what the tests look for; the rest make the week look lived in.
WEEK = (
    Visit("Ada Lovelace", "telegram", "manicure", "maria", _WED, time(10, 0), "+49 151 100"),
    Visit("Ben Walker", "", "womens-haircut", "anna", _WED, time(11, 0), "+49 160 200"),
    Visit("Chloé Martin", "whatsapp", "lash-lift", "olga", _WED, time(12, 30), "+49 170 300"),
    Visit("Dmitri Ivanov", "telegram", "colouring", "anna", _WED, time(15, 0)),
    Visit("Eva Schmidt", "", "pedicure", "maria", _WED, time(14, 0), "+49 152 400"),
    Visit("Farah Khan", "telegram", "brow-shaping", "maria", _WED, time(16, 30)),
    Visit("Greta Braun", "whatsapp", "manicure", "maria", _MON, time(9, 30)),
    Visit("Hanna Vogel", "", "pedicure", "maria", _MON, time(14, 0)),
    Visit("Ida Roth", "telegram", "brow-shaping", "maria", _TUE, time(11, 15)),
    Visit("Jana Wolf", "whatsapp", "manicure", "maria", _TUE, time(15, 0)),
    Visit("Karl Weber", "", "pedicure", "maria", _FRI, time(12, 0)),
    Visit("Lena Fischer", "telegram", "manicure", "maria", _FRI, time(17, 0)),
    Visit("Mila Novak", "whatsapp", "brow-shaping", "maria", _SAT, time(10, 30)),
    Visit("Nina Hoffmann", "telegram", "womens-haircut", "anna", _THU, time(12, 0)),
)


async def add_customer(app: Salonbot, visit: Visit, number: int) -> int:
    """The customer as their channel made them (an identity), or as the desk typed them in."""
    async with app.uow() as uow:
        customers = CustomerRepository(uow.connection)
        if visit.channel:
            customer_id, _ = await customers.for_identity(
                visit.channel,
                f"demo-{number}",
                app.clock.now(),
                name=visit.customer,
                phone=visit.phone,
            )
        else:
            customer_id = await customers.add(visit.customer, app.clock.now(), phone=visit.phone)
        await uow.commit()
    return customer_id


async def book(app: Salonbot, visit: Visit, number: int) -> Booking:
    """``visit`` booked the way it came in: by the customer in chat, or by the desk."""
    customer_id = await add_customer(app, visit, number)
    actor = Actor.customer(customer_id) if visit.channel else Actor.staff("owner")
    return await app.bookings.book(
        visit.service, visit.start, actor, staff_key=visit.staff, customer_id=customer_id
    )


async def book_the_week(
    app: Salonbot, clock: FakeClock, now: datetime, visits: tuple[Visit, ...] = WEEK
) -> dict[str, Booking]:
    """Book ``visits`` as of Monday morning, then set ``clock`` to ``now`` and record the
    visits that ended by then as completed (as ``salonbot serve``'s tick would); the
    bookings by customer name."""
    clock.set(BOOKED_AT)
    booked = {visit.customer: await book(app, visit, n) for n, visit in enumerate(visits)}
    clock.set(now)
    await app.complete_ended_visits.run()
    return booked


async def add_accounts(app: Salonbot) -> None:
    """The owner, in English, and Anna, a staff user who edits only her own bookings."""
    await app.accounts.add(OWNER, PASSWORD, Role.OWNER)
    await app.accounts.add(ANNA, PASSWORD, Role.STAFF, "anna")
