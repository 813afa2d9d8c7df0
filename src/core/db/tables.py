"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/`` create exactly this.

Constraint names follow ``NAMING_CONVENTION`` so a violation maps to a domain error by
name: ``ex_bookings_staff_blocked`` is the last line of defence against double booking.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, ExcludeConstraint

from core.domain.booking import BookingStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLOT_TAKEN_CONSTRAINT = "ex_bookings_staff_blocked"
# One booking per request key: a violation means the request was made already.
REQUEST_KEY_INDEX = "uq_bookings_request_key"
# The statuses whose bookings occupy time (``BookingStatus.is_active``); queries use
# ``core.db.blocking``, the exclusion constraint this text. Migrations keep their own copy.
ACTIVE_STATUS_VALUES = tuple(status.value for status in BookingStatus if status.is_active)
ACTIVE_STATUS_SQL = "status IN ({})".format(", ".join(f"'{v}'" for v in ACTIVE_STATUS_VALUES))

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now_column(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


salon_catalog = Table(
    "salon_catalog",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document", JSONB, nullable=False),
    Column("digest", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

services = Table(
    "services",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)

staff = Table(
    "staff",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)

customers = Table(
    "customers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("phone", Text),
    Column("language", Text),
    _now_column("created_at"),
    # Where the customer talks to us: a channel ("telegram", "whatsapp", "terminal") and
    # that channel's id for them. Both empty for customers staff add by hand.
    Column("channel", Text),
    Column("external_id", Text),
    # The payload of their first /start (an ad or a link they came from).
    Column("start_payload", Text),
    # Set when their channel refused a message for good (they blocked the bot, say).
    Column("unreachable_at", DateTime(timezone=True)),
    # Set when their personal data was erased on request (``salonbot customer forget``):
    # the row stays, anonymous, for the bookings that name it.
    Column("forgotten_at", DateTime(timezone=True)),
    UniqueConstraint("channel", "external_id"),
    CheckConstraint("(channel IS NULL) = (external_id IS NULL)", name="identity_complete"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("chat_id", Text, primary_key=True),
    Column("customer_id", BigInteger, ForeignKey("customers.id"), nullable=False),
    Column("state", JSONB, nullable=False),
    # Bumped on every save: a save based on an older read is refused, never lost silently.
    Column("version", Integer, nullable=False),
    _now_column("updated_at"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", BigInteger, ForeignKey("customers.id")),
    Column("service_id", BigInteger, ForeignKey("services.id"), nullable=False),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    # The span the staff member is unavailable: the service widened by its buffers.
    Column("blocked_from", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("hold_expires_at", DateTime(timezone=True)),
    Column("price", Numeric(12, 2), nullable=False),
    _now_column("created_at"),
    _now_column("updated_at"),
    # When the customer confirmed they are coming (a reminder's Confirm); None: not asked
    # or not answered. The booking's status is unchanged by it.
    Column("customer_confirmed_at", DateTime(timezone=True)),
    # Bumped by every move (a new time or staff member): a button that names an older
    # version (a reminder's) is about a visit that has since moved.
    Column("version", Integer, nullable=False, server_default=text("1")),
    # The key of the request that made the booking (a staff form's, an API client's
    # ``Idempotency-Key``): the same request sent again finds its booking, not a new slot.
    Column("request_key", Text),
    CheckConstraint(
        "status IN ('held', 'confirmed', 'cancelled', 'completed', 'no_show')", name="status"
    ),
    CheckConstraint(
        "blocked_from <= starts_at AND starts_at < ends_at AND ends_at <= blocked_until",
        name="times_ordered",
    ),
    CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="hold_has_expiry"),
    # No two active bookings of one staff member share blocked time. btree_gist is not
    # available everywhere (not in the embedded server), so the staff id is compared as a
    # single-point int8range, which GiST supports natively.
    ExcludeConstraint(
        (text("int8range(staff_id, staff_id, '[]')"), "&&"),
        (text("tstzrange(blocked_from, blocked_until, '[)')"), "&&"),
        name=SLOT_TAKEN_CONSTRAINT,
        using="gist",
        where=text(ACTIVE_STATUS_SQL),
    ),
    Index("ix_bookings_staff_id_blocked_from", "staff_id", "blocked_from"),
    Index("ix_bookings_customer_id", "customer_id"),
    # The scheduler's look for confirmed visits that ended (and a catalog load's for
    # upcoming ones): the confirmed bookings only, by their end.
    Index(
        "ix_bookings_confirmed_ends_at",
        "ends_at",
        postgresql_where=text("status = 'confirmed'"),
    ),
    Index(
        REQUEST_KEY_INDEX,
        "request_key",
        unique=True,
        postgresql_where=text("request_key IS NOT NULL"),
    ),
)

booking_events = Table(
    "booking_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("booking_id", BigInteger, ForeignKey("bookings.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_kind", Text, nullable=False),
    Column("actor_ref", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("from_staff_id", BigInteger, ForeignKey("staff.id")),
    Column("to_staff_id", BigInteger, ForeignKey("staff.id")),
    Column("from_starts_at", DateTime(timezone=True)),
    Column("to_starts_at", DateTime(timezone=True)),
    Column("note", Text, nullable=False, server_default=""),
)

time_off = Table(
    "time_off",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_by", Text, nullable=False, server_default=""),
    _now_column("created_at"),
    CheckConstraint("starts_at < ends_at", name="times_ordered"),
    Index("ix_time_off_staff_id_starts_at", "staff_id", "starts_at"),
)

outbound_messages = Table(
    "outbound_messages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("channel", Text, nullable=False),
    Column("chat_id", Text, nullable=False),
    # The reply as the core made it: {"text": ..., "choices": [{"id": ..., "label": ...}]}.
    Column("body", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", Text),
    # The platform's id of the sent message (Telegram's message_id, WhatsApp's wamid).
    Column("platform_message_id", Text),
    # What the platform last reported of it (WhatsApp: sent, delivered, read, failed) and
    # the platform's time of that report: reports can arrive out of order.
    Column("delivery_status", Text),
    Column("delivery_at", DateTime(timezone=True)),
    _now_column("created_at"),
    # A reply of the conversation, or a channel's request that the customer write again
    # (WhatsApp's approved template, when the 24-hour window has closed).
    # A reply-shaped message (text and choices: conversation replies, reminders, notices),
    # a channel's request that the customer write again (WhatsApp's approved template, when
    # the 24-hour window has closed), or a template message whose body names the template
    # and its parameters (WhatsApp's reminder template).
    Column("kind", Text, nullable=False, server_default="reply"),
    # 0: the conversation (a customer is waiting); 1: bulk (reminders, notices, agendas).
    # Lower goes first, under the same pacing.
    Column("priority", SmallInteger, nullable=False, server_default=text("0")),
    # Not sent after this instant (a reminder after its visit has started); None: the
    # dispatcher's shelf life from ``created_at``.
    Column("expires_at", DateTime(timezone=True)),
    # The visit a reminder or follow-up is about: withdrawn if the visit moves or ends.
    Column("booking_id", BigInteger, ForeignKey("bookings.id")),
    # The customers a message to a staff chat names (a booking notice, an agenda): how
    # ``customer forget`` finds their name and phone in a chat that is not theirs.
    Column("customer_ids", ARRAY(BigInteger)),
    # When a dispatcher committed that it is sending the message now (several processes):
    # the claim leaves it alone while the send may still be under way, so a new leader
    # waits for the old one's outcome instead of sending it again (``dispatch``).
    Column("sending_since", DateTime(timezone=True)),
    # expired: too old to send when its turn came (see ``core.services.dispatch``).
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'expired')", name="status"),
    CheckConstraint("kind IN ('reply', 'window_reopener', 'template')", name="kind"),
    CheckConstraint("priority IN (0, 1)", name="priority"),
    # The dispatcher's queue: each chat's pending messages in the order they were written.
    Index(
        "ix_outbound_messages_platform_message_id",
        "channel",
        "platform_message_id",
        postgresql_where=text("platform_message_id IS NOT NULL"),
    ),
    Index(
        "ix_outbound_messages_pending",
        "channel",
        "chat_id",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
    # The claim's walk: the conversation's messages first, then bulk, oldest first.
    Index(
        "ix_outbound_messages_pending_by_priority",
        "channel",
        "priority",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_outbound_messages_booking_id",
        "booking_id",
        postgresql_where=text("booking_id IS NOT NULL AND status = 'pending'"),
    ),
    # Retention's walk (``core.db.retention_repository``): finished (or failed) messages,
    # oldest first.
    Index(
        "ix_outbound_messages_finished_created_at",
        "created_at",
        postgresql_where=text("status IN ('sent', 'expired', 'failed')"),
    ),
    # Erasure's look-up (``core.db.erasure_repository``): staff messages naming a customer.
    Index(
        "ix_outbound_messages_customer_ids",
        "customer_ids",
        postgresql_using="gin",
        postgresql_where=text("customer_ids IS NOT NULL"),
    ),
)

scheduled_notices = Table(
    "scheduled_notices",
    metadata,
    # A message salonbot sends without being written to: a visit's reminder (one per rule)
    # and follow-up, a staff member's agenda. Planned as ``pending`` with the instant it is
    # due; the scheduler claims due rows (FOR UPDATE SKIP LOCKED) and queues each in the
    # outbox at most once: the unique keys below name each message.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("booking_id", BigInteger, ForeignKey("bookings.id")),
    Column("staff_id", BigInteger, ForeignKey("staff.id")),
    # Which reminder rule ("before:24h", "day_before_at:18:00"); empty for the others.
    Column("rule", Text, nullable=False, server_default=""),
    # What the message is about: the visit's start (reminder), its end (follow-up), or the
    # start of the staff member's local day (agenda). A moved visit has new keys.
    Column("occasion", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("outbox_id", BigInteger),
    Column("decided_at", DateTime(timezone=True)),
    # Why it was skipped or withdrawn.
    Column("note", Text, nullable=False, server_default=""),
    _now_column("created_at"),
    CheckConstraint("kind IN ('reminder', 'follow_up', 'agenda')", name="kind"),
    CheckConstraint("status IN ('pending', 'queued', 'skipped', 'withdrawn')", name="status"),
    # An agenda is a staff member's; the others are a visit's.
    CheckConstraint(
        "(kind = 'agenda' AND staff_id IS NOT NULL AND booking_id IS NULL)"
        " OR (kind <> 'agenda' AND booking_id IS NOT NULL AND staff_id IS NULL)",
        name="subject",
    ),
    Index(
        "uq_scheduled_notices_booking",
        "booking_id",
        "kind",
        "rule",
        "occasion",
        unique=True,
        postgresql_where=text("booking_id IS NOT NULL"),
    ),
    Index(
        "uq_scheduled_notices_staff",
        "staff_id",
        "kind",
        "occasion",
        unique=True,
        postgresql_where=text("staff_id IS NOT NULL"),
    ),
    Index("ix_scheduled_notices_due", "due_at", postgresql_where=text("status = 'pending'")),
)

staff_chats = Table(
    "staff_chats",
    metadata,
    # A chat linked to a staff member (``salonbot staff link``): their notices and agenda
    # go there, and staff commands (/today, /tomorrow) are answered there.
    Column("channel", Text, primary_key=True),
    Column("chat_id", Text, primary_key=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False, index=True),
    Column("language", Text, nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

staff_link_codes = Table(
    "staff_link_codes",
    metadata,
    # One-time codes that link a chat to a staff member; only their SHA-256 is kept.
    Column("code_digest", Text, primary_key=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    _now_column("created_at"),
)

early_delivery_reports = Table(
    "early_delivery_reports",
    metadata,
    # A platform's report on a message that arrived before salonbot recorded the message as
    # sent (it sends, then commits): kept here and applied when the send is recorded.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("channel", Text, nullable=False),
    Column("platform_message_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("error", Text, nullable=False, server_default=""),
    # The platform said the message failed because the customer's window had closed.
    Column("window_closed", Boolean, nullable=False, server_default=text("false")),
    _now_column("received_at"),
    Index(
        "ix_early_delivery_reports_channel_platform_message_id", "channel", "platform_message_id"
    ),
    # Reports on messages salonbot never sent are dropped after a while, oldest first.
    Index("ix_early_delivery_reports_received_at", "received_at"),
)

inbound_events = Table(
    "inbound_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("channel", Text, nullable=False),
    # The platform's own id of the event (Telegram's update_id): a redelivery is a no-op.
    Column("platform_id", Text, nullable=False),
    # Events of one chat are handled one at a time, in the order they were stored.
    Column("chat_key", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True)),
    Column("last_error", Text),
    UniqueConstraint("channel", "platform_id"),
    CheckConstraint("status IN ('pending', 'done', 'ignored', 'failed')", name="status"),
    Index(
        "ix_inbound_events_pending",
        "channel",
        "chat_key",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
    # Retention's walk (``core.db.retention_repository``): handled (or parked) events,
    # oldest first.
    Index(
        "ix_inbound_events_handled_at",
        "handled_at",
        postgresql_where=text("status IN ('done', 'ignored', 'failed')"),
    ),
)


def heads_of_queues(table: Table, chat_column: str) -> ColumnElement[bool]:
    """True for each chat's oldest pending row in ``table`` (an inbox or an outbox).

    A scalar ``min(id)`` on the pending index, not an anti-join: on a fresh table (no
    statistics) under a prepared statement's generic plan, Postgres ran the anti-join as
    a quadratic loop (35-80 ms a claim with 1,000 rows pending).
    """
    head = table.alias("head")
    return table.c.id == (
        select(func.min(head.c.id))
        .where(
            head.c.channel == table.c.channel,
            head.c[chat_column] == table.c[chat_column],
            head.c.status == "pending",
        )
        .scalar_subquery()
    )


staff_users = Table(
    "staff_users",
    metadata,
    # A person who signs in to the staff web (``salonbot staff-user add``). The email is
    # stored lowercased, so its uniqueness is case-insensitive; only the argon2 hash of the
    # password is kept.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("email", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=True),
    Column("language", Text, nullable=False),
    _now_column("created_at"),
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    CheckConstraint("role IN ('owner', 'staff')", name="role"),
    CheckConstraint("role <> 'staff' OR staff_id IS NOT NULL", name="staff_member"),
    CheckConstraint("email = lower(email)", name="email_lowercase"),
    CheckConstraint("failed_logins >= 0", name="failed_logins"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    # The cookie carries a random token; only its SHA-256 is stored, so a copy of the
    # database signs nobody in.
    Column("token_digest", Text, primary_key=True),
    Column(
        "user_id",
        BigInteger,
        ForeignKey("staff_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("csrf", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    # Ended sessions are deleted by it at each sign-in.
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    # Failed sign-ins by network address, for throttling guessers who try many emails.
    # Rows older than the throttling window are pruned as new failures come in.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("address", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_failures_address_at", "address", "at"),
    # Failures past the window are pruned by it, from every address.
    Index("ix_login_failures_at", "at"),
)

staff_feeds = Table(
    "staff_feeds",
    metadata,
    # A staff member's calendar feed link (``/staff/feed/<token>.ics``): one per member, a
    # new one replaces it. Only the SHA-256 of the token is kept, as for sessions.
    Column("staff_id", BigInteger, ForeignKey("staff.id"), primary_key=True),
    Column("token_digest", Text, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Who made it: a staff user's email, or "cli".
    Column("created_by", Text, nullable=False),
)

calendar_pushes = Table(
    "calendar_pushes",
    metadata,
    # A booking to put on (or take off) its staff member's linked calendar (Google
    # Calendar): queued in the booking change's transaction, pushed by
    # ``core.services.calendar_pusher`` outside any transaction, in order per booking.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("booking_id", BigInteger, ForeignKey("bookings.id"), nullable=False),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False),
    Column("calendar_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    # A put's event (``core.db.calendar_push_repository``); NULL for a remove.
    Column("event", JSONB),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    # A pusher is calling the calendar with it until then (past: the pusher died).
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", Text),
    # Given up (refused for good, or too many attempts): ``last_error`` says why.
    Column("parked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Carried out, or superseded by a later push of the booking (``last_error`` says so);
    # a parked push is also marked done once a later push of the booking to the same
    # calendar is carried out (it is no longer stuck).
    Column("done_at", DateTime(timezone=True)),
    CheckConstraint("action IN ('put', 'remove')", name="action"),
    CheckConstraint("(action = 'put') = (event IS NOT NULL)", name="event"),
    # The pushers' claim: the open pushes, due first.
    Index(
        "ix_calendar_pushes_open_next_attempt_at",
        "next_attempt_at",
        "id",
        postgresql_where=text("done_at IS NULL AND parked_at IS NULL"),
    ),
    # A booking's open pushes, for the order per booking and superseding.
    Index(
        "ix_calendar_pushes_open_booking_id",
        "booking_id",
        "id",
        postgresql_where=text("done_at IS NULL AND parked_at IS NULL"),
    ),
    # The stuck ones (parked, not settled by a later push), for the staff page and
    # ``salonbot google status`` (migration 0013).
    Index(
        "ix_calendar_pushes_stuck_staff_id",
        "staff_id",
        "booking_id",
        postgresql_where=text("parked_at IS NOT NULL AND done_at IS NULL"),
    ),
)

calendar_syncs = Table(
    "calendar_syncs",
    metadata,
    # A staff member's linked calendar read back (``core.services.calendar_import``): one
    # row per staff member with a calendar in the catalog.
    Column("staff_id", BigInteger, ForeignKey("staff.id"), primary_key=True),
    Column("calendar_id", Text, nullable=False),
    # ``events.list``'s nextSyncToken of the last sync; NULL: the next sync is a full one.
    Column("sync_token", Text),
    # The UTC span the last full sync asked for (``timeMin``/``timeMax``): incremental
    # syncs keep it, so a full sync moves it on before the booking horizon outgrows it.
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("synced_at", DateTime(timezone=True)),
    # A sync was asked for (a push notification, ``salonbot google resync``) at this time;
    # cleared by the sync that began after it. ``full_wanted``: a full one.
    Column("wanted_at", DateTime(timezone=True)),
    Column("full_wanted", Boolean, nullable=False, server_default=text("false")),
    # A process is syncing it until then (past: that process died).
    Column("claimed_until", DateTime(timezone=True)),
    # Syncs failed in a row, the next try (backoff) and why, for the staff page.
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    # Its push channel (``events.watch``), when PUBLIC_BASE_URL is https. Only the SHA-256
    # (hex) of the channel's token is kept.
    Column("channel_id", Text),
    Column("channel_resource_id", Text),
    Column("channel_token_digest", Text),
    Column("channel_expires_at", DateTime(timezone=True)),
    # When salonbot asked for the channel: with its expiry, the life Google granted (it
    # may grant less than asked), renewed in its last part.
    Column("channel_opened_at", DateTime(timezone=True)),
    Index(
        "ix_calendar_syncs_channel_id",
        "channel_id",
        unique=True,
        postgresql_where=text("channel_id IS NOT NULL"),
    ),
)

calendar_busy = Table(
    "calendar_busy",
    metadata,
    # A linked calendar's own event that makes its staff member busy (opaque, confirmed or
    # tentative, not salonbot's): read by availability with the bookings and time off. No
    # title is kept: it is the staff member's own life. One row per event instance
    # (recurring events expanded), UTC; an all-day event spans its local days.
    Column(
        "staff_id",
        BigInteger,
        ForeignKey("calendar_syncs.staff_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("event_id", Text, primary_key=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("starts_at < ends_at", name="times_ordered"),
    Index("ix_calendar_busy_staff_id_starts_at", "staff_id", "starts_at"),
)

calendar_alerts = Table(
    "calendar_alerts",
    metadata,
    # What the calendar sync could not reconcile by itself, for the staff page (and told
    # to the staff member's linked chat once): ``conflict``, a booking that an event of
    # their calendar now overlaps; ``reverted``, a move of salonbot's event in Google that
    # salonbot put back (``detail`` says why).
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("booking_id", BigInteger, ForeignKey("bookings.id")),
    # The calendar event concerned (the overlapping one, or salonbot's own).
    Column("event_id", Text, nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("dismissed_at", DateTime(timezone=True)),
    CheckConstraint("kind IN ('conflict', 'reverted')", name="kind"),
    # A conflict is told once per (booking, event).
    Index(
        "ix_calendar_alerts_told_once",
        "kind",
        "booking_id",
        "event_id",
        unique=True,
        postgresql_where=text("kind = 'conflict'"),
    ),
    Index(
        "ix_calendar_alerts_open_staff_id",
        "staff_id",
        "created_at",
        postgresql_where=text("dismissed_at IS NULL"),
    ),
)

calendar_seen_events = Table(
    "calendar_seen_events",
    metadata,
    # salonbot's own event of a booking as the last read of a staff member's calendar
    # found it (edited, deleted, made recurring in Google, or as salonbot put it): kept in
    # the read's own transaction, so no edit is lost once the read's sync token moves on,
    # and deleted once ``core.services.calendar_edits`` has reconciled it with its
    # booking. A newer read replaces the event (``version`` counts). No foreign key to the
    # booking: an event may name one this database never had.
    Column("staff_id", BigInteger, ForeignKey("staff.id"), primary_key=True),
    Column("booking_id", BigInteger, primary_key=True),
    Column("calendar_id", Text, nullable=False),
    # The event as read (``core.db.calendar_seen_repository``), no title or description.
    Column("event", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    # A process is reconciling it until then (past: that process died).
    Column("claimed_until", DateTime(timezone=True)),
    # Reconciliations failed in a row, the next try (backoff), and why; given up after
    # too many (``parked_at``), for the staff page, until a read finds the event changed.
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("parked_at", DateTime(timezone=True)),
)

# A booking's pushes on one calendar, newest last: what salonbot last wrote there for it
# (``core.services.calendar_edits`` asks for every event of ours a calendar read finds),
# and where its event was put. Added with 0013.
Index(
    "ix_calendar_pushes_booking_id_calendar_id",
    calendar_pushes.c.booking_id,
    calendar_pushes.c.calendar_id,
    calendar_pushes.c.id,
)
