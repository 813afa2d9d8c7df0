"""Wiring: one object holding the engine, every port and the use cases built on them.

This is the only place that chooses the ports' implementations: the use cases (and the
inbox's event handler) get them from here, never build their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.ports import PasswordHasher
from core.db.unit_of_work import UnitOfWorkFactory
from core.linked_calendars.ports import LinkedCalendars, OurEventsSeen
from core.ports import Clock, ExternalBusy, InboundChannel, NoExternalBusy, SystemClock
from core.services.agendas import QueueAgendas
from core.services.availability import FindSlots
from core.services.booking import Bookings
from core.services.booking_changes import BookingFollower
from core.services.calendar_changes import CalendarChanges
from core.services.calendar_channels import CalendarChannels
from core.services.calendar_conflicts import CalendarConflicts
from core.services.calendar_desk import StaffLinkedCalendars
from core.services.calendar_edits import CalendarEdits
from core.services.calendar_import import POLL_EVERY, CalendarImport
from core.services.calendar_notifications import StoredCalendarNotifications
from core.services.calendar_push import CalendarOfStaff, CalendarPushes, calendar_in_catalog
from core.services.calendar_pusher import CalendarPusher
from core.services.calendar_status import CalendarStatuses
from core.services.catalog import CatalogReader
from core.services.converse import Converse
from core.services.converse_inbound import ConverseInbound
from core.services.customer_book import StaffCustomerBook
from core.services.customer_notices import CustomerNotices
from core.services.due_notices import QueueDueNotices
from core.services.front_desk import StaffFrontDesk
from core.services.in_process_delivery import DeliverInProcess
from core.services.reminders import ReminderPlanner
from core.services.retention import DEFAULT_RETENTION, PruneOldTraffic
from core.services.staff_accounts import StaffAccounts
from core.services.staff_calendar import StaffCalendar
from core.services.staff_feeds import StoredStaffFeeds
from core.services.staff_link import StaffLinks
from core.services.staff_notices import StaffNotices
from core.services.time_off import AddTimeOff
from core.services.visits_done import CompleteEndedVisits
from core.services.wakeup import Wakeup
from salonbot.live import PostgresLiveChanges, connector
from salonbot.passwords import Argon2Passwords


@dataclass
class Salonbot:
    """The core use cases over one database engine, with the ports they use.

    ``external_busy``: busy time from outside salonbot (Google Calendar, later); no such
    time until one is configured. ``passwords``: how staff users' passwords are hashed.
    ``linked_calendars``: the staff's own calendars, which follow their bookings (None:
    nothing is pushed); ``calendar_of`` names a staff member's calendar.
    ``calendar_poll_every``: how often each calendar is read back (its events make the
    staff member busy); ``our_events``: who reconciles salonbot's own events that a read
    found edited or deleted in Google (None: ``CalendarEdits``, through this app's bookings).
    ``calendar_webhook_url``: where Google posts the calendars' push notifications (serve:
    PUBLIC_BASE_URL's route); None, or not https: no push channels, polling only.
    """

    engine: AsyncEngine
    clock: Clock = field(default_factory=SystemClock)
    external_busy: ExternalBusy = field(default_factory=NoExternalBusy)
    passwords: PasswordHasher = field(default_factory=Argon2Passwords)
    linked_calendars: LinkedCalendars | None = None
    calendar_of: CalendarOfStaff = calendar_in_catalog
    calendar_poll_every: timedelta = POLL_EVERY
    our_events: OurEventsSeen | None = None
    calendar_webhook_url: str | None = None
    # How long handled inbound events and sent messages are kept (``RETENTION_DAYS``).
    retention: timedelta = DEFAULT_RETENTION

    def __post_init__(self) -> None:
        self.uow = UnitOfWorkFactory(self.engine)
        self.catalogs = CatalogReader()
        self.find_slots = FindSlots(self.uow, self.clock, self.catalogs, self.external_busy)
        # What else happens, in the same transaction, whenever a booking changes.
        # The customer's notice comes after the reminders' planner, whose withdrawal of a
        # changed visit's waiting messages must not take the new notice back.
        self.followers: tuple[BookingFollower, ...] = (
            ReminderPlanner(),
            StaffNotices(),
            CustomerNotices(),
        )
        # Only rows are queued in the change's transaction; the pusher calls the calendar.
        # Queued whatever this process can reach (the catalog's ``google_calendar``
        # decides), so a process without the key (``salonbot chat``, a serve started
        # without it) loses no change: the pushes wait for a pusher, visibly.
        self.followers += (CalendarPushes(self.calendar_of),)
        # A booking confirmed over busy time read from its staff member's calendar (a
        # hold confirmed after an event was read over it) raises a conflict alert.
        self.followers += (CalendarConflicts(),)
        self.calendar_pusher: CalendarPusher | None = None
        if self.linked_calendars is not None:
            self.calendar_pusher = CalendarPusher(self.uow, self.clock, self.linked_calendars)
        # Push notifications from the staff's calendars: the webhook asks for a sync (and
        # wakes whoever waits on ``calendar_sync_wanted``); the channels' upkeep is a tick.
        self.calendar_sync_wanted = Wakeup()
        self.calendar_notifications = StoredCalendarNotifications(self.uow, self.clock)
        self.calendar_channels: CalendarChannels | None = None
        if self.linked_calendars is not None:
            self.calendar_channels = CalendarChannels(
                self.uow,
                self.clock,
                self.linked_calendars,
                self.catalogs,
                address=self.calendar_webhook_url,
                calendar_of=self.calendar_of,
            )
        self.bookings = Bookings(
            self.uow, self.clock, self.catalogs, self.external_busy, self.followers
        )
        # Google -> salonbot: the staff's own events become busy time (``calendar_busy``);
        # salonbot's own events that staff moved or deleted in Google are followed
        # through the booking use cases (``CalendarEdits``), unless told otherwise.
        self.calendar_import: CalendarImport | None = None
        if self.our_events is None:
            self.our_events = CalendarEdits(self.uow, self.clock, self.catalogs, self.bookings)
        if self.linked_calendars is not None:
            self.calendar_import = CalendarImport(
                self.uow,
                self.clock,
                self.catalogs,
                self.linked_calendars,
                our_events=self.our_events,
                calendar_of=self.calendar_of,
                poll_every=self.calendar_poll_every,
            )
        self.add_time_off = AddTimeOff(self.uow, self.clock)
        self.staff_links = StaffLinks(self.uow, self.clock)
        self.converse = self.converse_in(self.uow)
        self.deliver_in_process = DeliverInProcess(self.uow, self.clock)
        # The staff web's ports.
        self.accounts = StaffAccounts(self.uow, self.clock, self.passwords)
        self.calendar = StaffCalendar(self.uow, self.clock, self.catalogs)
        self.front_desk = StaffFrontDesk(
            self.uow, self.clock, self.catalogs, self.bookings, self.add_time_off, self.find_slots
        )
        self.customer_book = StaffCustomerBook(self.uow, self.catalogs)
        # The staff's own Google Calendars: the staff page's notices (alerts, stuck
        # pushes) and ``salonbot google status``.
        self.linked_calendars_desk = StaffLinkedCalendars(self.uow, self.clock)
        self.calendar_statuses = CalendarStatuses(
            self.uow, self.clock, self.catalogs, self.calendar_of
        )
        self.feeds = StoredStaffFeeds(self.uow, self.clock, self.catalogs)
        # Connects on its first subscriber, not here.
        self.live = PostgresLiveChanges(
            connector(self.engine), CalendarChanges(self.uow, self.catalogs)
        )
        # The scheduler's ticks (``salonbot.scheduler``).
        self.complete_ended_visits = CompleteEndedVisits(self.bookings)
        self.prune_old_traffic = PruneOldTraffic(self.uow, self.clock, self.retention)

    async def salon_today(self) -> date:
        """The salon's local date now (raises ``CatalogNotLoaded`` before a catalog)."""
        async with self.uow() as uow:
            catalog = await self.catalogs.current(uow.connection)
        return self.clock.now().astimezone(catalog.salon.zone).date()

    async def service_menu(self, language: str) -> list[tuple[str, str]]:
        """The catalog's services as (key, name in ``language``), in the owner's order: what
        the staff pages' walk-in form offers."""
        async with self.uow() as uow:
            catalog = await self.catalogs.current(uow.connection)
        return [(key, service.name(language)) for key, service in catalog.services.items()]

    def due_notices(self, outbox: Wakeup | None = None) -> QueueDueNotices:
        """The tick that queues due reminders and follow-ups, waking ``outbox``'s
        dispatchers when it queued some."""
        return QueueDueNotices(self.uow, self.clock, self.catalogs, wakeup=outbox)

    def agendas(self, outbox: Wakeup | None = None) -> QueueAgendas:
        """The tick that queues the staff's agendas, waking ``outbox``'s dispatchers when
        it queued some."""
        return QueueAgendas(self.uow, self.clock, self.catalogs, wakeup=outbox)

    def converse_in(self, uow_factory: UnitOfWorkFactory) -> Converse:
        """``converse`` over ``uow_factory`` (savepoints of a caller's transaction, say)."""
        return Converse(
            uow_factory,
            self.clock,
            self.catalogs,
            self.find_slots,
            self.external_busy,
            self.followers,
        )

    def inbox_handler(self, channels: Mapping[str, InboundChannel]) -> ConverseInbound:
        """What the inbox workers do with an event of one of ``channels``."""
        return ConverseInbound(channels, self.converse_in)

    async def close(self) -> None:
        await self.live.close()
        await self.engine.dispose()
