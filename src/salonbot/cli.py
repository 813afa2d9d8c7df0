"""The ``salonbot`` command line.

Every command that touches the database first upgrades the schema to head (Alembic), so
a fresh clone and an upgraded install both just work; ``salonbot migrate`` does only that.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.catalog.file import load_catalog_text, read_catalog_file
from core.catalog.limits import MAX_BOOKING_HORIZON
from core.catalog.problems import CatalogError
from core.domain.errors import DomainError
from salonbot.data_commands import NO_UPGRADE, add_data_commands

# Everything else is imported by the command that uses it: `--help` and `catalog check`
# must not pay for SQLAlchemy, Alembic or the channels' libraries (aiogram alone takes
# seconds), and `chat` must not pay for `serve`'s web server. tests/unit/test_cli_imports.py
# keeps it so.
if TYPE_CHECKING:
    from adapters.google_calendar.client import GoogleCalendars
    from salonbot.bootstrap import Salonbot
    from salonbot.config import Settings
    from salonbot.database import DatabaseLocation


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


# No slot lies further ahead than the longest booking horizon a catalog may set, so days
# beyond it only ask for date arithmetic that overflows at the ends of the calendar.
_MOST_DAYS = MAX_BOOKING_HORIZON.days


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
    if abs((day - datetime.now(UTC).date()).days) > _MOST_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {_MOST_DAYS} days from today")
    return day


def _day_count(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    if days > _MOST_DAYS:
        raise argparse.ArgumentTypeError(
            f"at most {_MOST_DAYS} (the longest booking horizon a salon may set)"
        )
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salonbot", description="Booking bot for beauty salons.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    catalog = commands.add_parser("catalog", help="the salon catalog file")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    load = catalog_commands.add_parser("load", help="validate a catalog file and apply it")
    load.add_argument("file", type=Path)
    check = catalog_commands.add_parser("check", help="validate a catalog file, apply nothing")
    check.add_argument("file", type=Path)
    slots = commands.add_parser("slots", help="print free slots in the salon's local time")
    slots.add_argument("service", help="service id from the catalog")
    slots.add_argument("--staff", help="staff id (default: any staff)")
    slots.add_argument("--from", dest="first_day", type=_day, help="YYYY-MM-DD")
    slots.add_argument("--days", type=_day_count, default=7)
    staff = commands.add_parser("staff", help="link staff members' chats for their notices")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    link = staff_commands.add_parser("link", help="print a one-time code that links a chat")
    link.add_argument("staff", help="staff id from the catalog")
    unlink = staff_commands.add_parser("unlink", help="unlink every chat of a staff member")
    unlink.add_argument("staff", help="staff id from the catalog")
    staff_commands.add_parser("list", help="show who is linked, and where")
    _staff_user_parser(commands)
    feed = commands.add_parser("staff-feed", help="staff members' calendar feed links")
    feed_commands = feed.add_subparsers(dest="feed_command", required=True)
    new_feed = feed_commands.add_parser(
        "new", help="print a new feed link for a staff member (their old link stops working)"
    )
    new_feed.add_argument("staff", metavar="STAFF_ID", help="their staff id in the catalog")
    new_feed.add_argument(
        "--base-url", required=True, help="the salon's public address, e.g. https://salon.example"
    )
    stop_feed = feed_commands.add_parser(
        "stop", help="stop a staff member's feed link (it opens nothing; no new one is made)"
    )
    stop_feed.add_argument("staff", metavar="STAFF_ID", help="their staff id in the catalog")
    google = commands.add_parser("google", help="staff members' Google Calendars")
    google_commands = google.add_subparsers(dest="google_command", required=True)
    google_commands.add_parser(
        "check", help="whether salonbot can write each linked staff member's calendar"
    )
    google_commands.add_parser(
        "status", help="what is stuck or failing with each linked calendar (no call to Google)"
    )
    resync = google_commands.add_parser(
        "resync",
        help="read linked calendars in full and push every upcoming booking to them again",
    )
    resync.add_argument("--staff", metavar="STAFF_ID", help="only this staff member")
    commands.add_parser(
        "serve",
        help="run the bot: web server, inbox workers and outbox (Telegram, WhatsApp, or both)",
    )
    commands.add_parser(
        "doctor",
        help="check the settings, the database and each configured platform (exit 1 on a failure)",
    )
    chat = commands.add_parser(
        "chat", help="chat with the salon in this terminal (loads the demo salon if none)"
    )
    chat.add_argument("--chat", default="local", help="conversation id (default: local)")
    chat.add_argument("--name", default="", help="your name, as a channel would give it")
    chat.add_argument("--language", help="language code (default: from LANG, else the salon's)")
    add_data_commands(commands)
    return parser


def _staff_user_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("staff-user", help="accounts for the staff web (/staff/)")
    user_commands = users.add_subparsers(dest="user_command", required=True)
    from_stdin = "read the password from the first line of standard input (for scripts)"
    add = user_commands.add_parser("add", help="add a staff user (asks for their password)")
    add.add_argument("email")
    add.add_argument("--role", choices=["owner", "staff"], required=True)
    add.add_argument(
        "--staff", metavar="STAFF_ID", help="their staff id in the catalog (for --role staff)"
    )
    add.add_argument("--language", default="en", help="language of their pages (default: en)")
    add.add_argument("--password-stdin", action="store_true", help=from_stdin)
    user_commands.add_parser("list", help="show the staff users")
    remove = user_commands.add_parser("remove", help="remove a staff user; ends their sessions")
    remove.add_argument("email")
    reset = user_commands.add_parser(
        "reset-password", help="set a new password (asks for it); ends their sessions"
    )
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help=from_stdin)


def _read_catalog(path: Path) -> str:
    try:
        return read_catalog_file(path)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"cannot read {path}: not UTF-8 text") from None


async def _catalog_load(app: Salonbot, path: Path) -> str:
    from core.services.catalog import load_catalog

    document, _ = load_catalog_text(_read_catalog(path))
    result = await load_catalog(app.uow, app.clock, document)
    if not result.changed:
        return f"catalog unchanged ({path})"
    lines = [f"catalog loaded from {path}"]
    for label, keys in (
        ("services added", result.added_services),
        ("services removed", result.removed_services),
        ("staff added", result.added_staff),
        ("staff removed", result.removed_staff),
    ):
        if keys:
            lines.append(f"  {label}: {', '.join(keys)}")
    return "\n".join(lines)


async def _staff(app: Salonbot, args: argparse.Namespace) -> str:
    from salonbot.staff_view import render_code, render_linked, render_unlinked

    if args.staff_command == "link":
        return render_code(await app.staff_links.issue_code(args.staff))
    if args.staff_command == "unlink":
        return render_unlinked(*await app.staff_links.unlink(args.staff))
    return render_linked(await app.staff_links.linked())


def _read_password(from_stdin: bool) -> str:
    """The new password, never echoed: typed twice at a prompt, or the first line of
    standard input (read with a bound)."""
    from core.services.staff_accounts import MAX_PASSWORD

    if from_stdin:
        line = sys.stdin.readline(MAX_PASSWORD + 2)
        return line.removesuffix("\n").removesuffix("\r")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise CommandError("the two passwords differ; nothing changed")
    return password


async def _staff_user(app: Salonbot, args: argparse.Namespace) -> str:
    from core.calendar.ports import Role
    from core.services.staff_accounts import StaffAccounts, StaffRoleNeedsStaff
    from salonbot.passwords import Argon2Passwords

    accounts = StaffAccounts(app.uow, app.clock, Argon2Passwords())
    if args.user_command == "add":
        if Role(args.role) is Role.STAFF and not args.staff:
            raise StaffRoleNeedsStaff  # before asking for a password in vain
        password = _read_password(args.password_stdin)
        user = await accounts.add(args.email, password, Role(args.role), args.staff, args.language)
        staff = f", staff {user.staff_key}" if user.staff_key else ""
        return f"staff user added: {user.email} ({user.role.value}{staff}, {user.language})"
    if args.user_command == "remove":
        user = await accounts.remove(args.email)
        return f"staff user removed: {user.email} (signed out everywhere)"
    if args.user_command == "reset-password":
        ended = await accounts.reset_password(args.email, _read_password(args.password_stdin))
        sessions = "session" if ended == 1 else "sessions"
        return f"password reset for {args.email.strip().lower()}; {ended} {sessions} ended"
    users = await accounts.users()
    if not users:
        return "no staff users yet (add one: salonbot staff-user add EMAIL --role owner)"
    return "\n".join(
        f"{user.email}  {user.role.value}  {user.staff_key or '-'}  {user.language}"
        for user in users
    )


async def _staff_feed(app: Salonbot, args: argparse.Namespace) -> str:
    from adapters.staff_web.feeds import feed_url

    if args.feed_command == "stop":
        stopped = await app.feeds.stop_link(None, args.staff)
        return (
            f"The calendar feed link of {args.staff} is stopped."
            if stopped
            else f"{args.staff} had no calendar feed link."
        )
    base = args.base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or len(base) > 2_000:
        raise CommandError("--base-url: the salon's address, starting with https://")
    made = await app.feeds.new_link(None, args.staff)
    return "\n".join(
        [
            f"New calendar feed link for {made.staff_name} ({made.staff_key}); the old one,"
            " if any, stops working now:",
            feed_url(base, made.token),
        ]
    )


def _google_calendars(settings: Settings) -> GoogleCalendars:
    from adapters.google_calendar.client import GoogleCalendars, KeyFileError

    if settings.google_service_account_file is None:
        raise CommandError(
            "GOOGLE_SERVICE_ACCOUNT_FILE is not set: the path of the service account's JSON"
            " key (README: Google Calendar)"
        )
    try:
        return GoogleCalendars.from_key_file(
            settings.google_service_account_file, api_base=settings.google_calendar_api_base
        )
    except KeyFileError as error:
        raise CommandError(f"GOOGLE_SERVICE_ACCOUNT_FILE: {error}") from None


async def _google_check(app: Salonbot, settings: Settings) -> str:
    if settings.google_service_account_file is None:
        _google_calendars(settings)  # says what to set
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    linked = [(m.key, m.google_calendar) for m in catalog.staff.values() if m.google_calendar]
    if not linked:
        return "no staff member has a google_calendar in the catalog"
    calendars = _google_calendars(settings)
    failed = 0
    for key, calendar_id in linked:
        why = await calendars.check(calendar_id)
        failed += why is not None
        print(f"{key}  {calendar_id}  {why or 'ok'}", flush=True)
    if failed:
        raise CommandError(f"{failed} of {len(linked)} calendars cannot be written")
    return ""


async def _google_status(app: Salonbot) -> str:
    from salonbot.calendar_status_view import render_status

    now, statuses = await app.calendar_statuses()
    if not statuses:
        return "no staff member has a google_calendar in the catalog"
    for status in statuses:
        print(render_status(status, now), flush=True)
    troubled = sum(status.needs_attention for status in statuses)
    if troubled:
        raise CommandError(
            f"{troubled} of {len(statuses)} calendars need attention"
            " (a push given up, or reading back keeps failing)"
        )
    return ""


async def _google_resync(app: Salonbot, settings: Settings, staff_key: str | None) -> str:
    from core.services.calendar_import import CalendarImport
    from core.services.calendar_pusher import CalendarPusher
    from core.services.calendar_resync import CalendarResync

    calendars = _google_calendars(settings)
    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    if staff_key is None and not any(app.calendar_of(catalog, key) for key in catalog.staff):
        return "no staff member has a google_calendar in the catalog"
    importer = CalendarImport(
        app.uow,
        app.clock,
        app.catalogs,
        calendars,
        our_events=app.our_events,
        calendar_of=app.calendar_of,
    )
    pusher = CalendarPusher(app.uow, app.clock, calendars)
    outcomes = await CalendarResync(app.uow, app.clock, app.catalogs, importer, pusher).run(
        staff_key
    )
    for outcome in outcomes:
        read = (
            f"read: {outcome.busy} busy"
            if outcome.read_error is None
            else f"cannot read: {outcome.read_error}"
        )
        pushed = f"{outcome.pushed} of {outcome.bookings} bookings pushed"
        if outcome.push_error is not None:
            pushed += f" (not yet: {outcome.push_error})"
        print(f"{outcome.staff_key}  {outcome.calendar_id}  {read}; {pushed}", flush=True)
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        raise CommandError(f"{failed} of {len(outcomes)} calendars are not in step")
    return ""


async def _slots(app: Salonbot, args: argparse.Namespace) -> str:
    from core.domain.availability import SlotQuery
    from salonbot.slots_view import render_slots

    async with app.uow() as uow:
        catalog = await app.catalogs.current(uow.connection)
    first = args.first_day or app.clock.now().astimezone(catalog.salon.zone).date()
    query = SlotQuery(args.service, first, first + timedelta(days=args.days - 1), args.staff)
    slots = await app.find_slots(query)
    return render_slots(catalog, query, slots)


async def _chat(app: Salonbot, args: argparse.Namespace, *, embedded: bool) -> str:
    from adapters.terminal import chat as terminal
    from salonbot.config import system_language
    from salonbot.demo import load_demo_if_empty
    from salonbot.terminal_chat import terminal_contact, terminal_exchange

    # Only the embedded database is a playground: a configured one belongs to a salon,
    # which loads its own catalog (without one, the chat says so and stops).
    if embedded and await load_demo_if_empty(app):
        print("No salon was loaded yet: loaded the demo salon (examples/salon.yaml).")
    async with app.uow() as uow:
        await app.catalogs.current(uow.connection)  # CatalogNotLoaded: one line, exit 1
    print(
        "Type the number of a choice, any text, or a /command; /quit or Ctrl-D to leave.",
        file=sys.stderr,
    )
    contact = terminal_contact(args.chat, args.name, args.language or system_language())

    async def read_line() -> str | None:
        line = await asyncio.to_thread(sys.stdin.readline)
        return line or None

    def write(text: str) -> None:
        print(text, flush=True)

    await terminal.TerminalChat(terminal_exchange(app, contact), read_line, write).run()
    return ""


async def _run(location: DatabaseLocation, args: argparse.Namespace, settings: Settings) -> str:
    from salonbot.bootstrap import Salonbot
    from salonbot.database import make_engine

    app = Salonbot(make_engine(location.url, pool_size=2))
    try:
        if args.command == "catalog":
            return await _catalog_load(app, args.file)
        if args.command == "chat":
            return await _chat(app, args, embedded=location.server is not None)
        if args.command == "staff":
            return await _staff(app, args)
        if args.command == "staff-user":
            return await _staff_user(app, args)
        if args.command == "staff-feed":
            return await _staff_feed(app, args)
        if args.command == "google" and args.google_command == "status":
            return await _google_status(app)
        if args.command == "google" and args.google_command == "resync":
            return await _google_resync(app, settings, args.staff)
        if args.command == "google":
            return await _google_check(app, settings)
        if args.command == "customer":
            from salonbot.data_commands import forget_customer

            return await forget_customer(app, args.customer)
        return await _slots(app, args)
    finally:
        await app.close()


def _upgrade(location: DatabaseLocation) -> None:
    """Bring the schema to head; a database that cannot be reached is a one-line error."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from salonbot.migrate import upgrade

    where = "the embedded database" if location.server is not None else "DATABASE_URL"
    try:
        upgrade(location.url)
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split())
        raise CommandError(f"cannot use the database at {where}: {reason}") from None
    except (OSError, ValueError, OverflowError, TypeError, ArgumentError) as error:
        # Connection refused, no such socket, a URL that does not parse, a port out of range,
        # or a query parameter asyncpg.connect() has no keyword for (TypeError). None of
        # these messages quote the URL, which may hold a password.
        reason = " ".join(str(error).split())
        raise CommandError(f"cannot use the database at {where}: {reason}") from None


def _backup_or_restore(location: DatabaseLocation, args: argparse.Namespace) -> int:
    from salonbot.backups import BackupError
    from salonbot.data_commands import backup_or_restore
    from salonbot.pg_tools import PgToolError

    try:
        print(backup_or_restore(location, args))
    except (BackupError, PgToolError) as error:
        raise CommandError(str(error)) from None
    return 0


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed (Linux, macOS), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _locate(settings: Settings) -> DatabaseLocation:
    from salonbot.database import NoEmbeddedServer, locate

    try:
        return locate(settings)
    except NoEmbeddedServer as error:
        raise CommandError(str(error)) from None


def _serve(settings: Settings) -> int:
    from salonbot.serve import ServeError, check_settings, serve

    try:
        check_settings(settings)  # before anything starts: a config error is one line
        location = _locate(settings)
        _upgrade(location)
        run_event_loop(serve(settings, location))
    except ServeError as error:
        raise CommandError(str(error)) from None
    return 0


def _doctor(settings: Settings) -> int:
    """One line per check; the database is looked at as it is, never migrated first."""
    from salonbot.doctor import report

    def write(line: str) -> None:
        print(line, flush=True)

    try:
        location = _locate(settings)
    except CommandError as error:
        failed = report(settings, None, str(error), write=write)
    else:
        failed = report(settings, location.url, write=write)
    if failed:
        raise CommandError(f"{failed} check{'s' if failed != 1 else ''} failed")
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The embedded server's helper warns on every run where XDG_RUNTIME_DIR is unset (most
    # servers), also when it stops at exit; it is noise to whoever runs salonbot.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        if args.command == "catalog" and args.catalog_command == "check":
            load_catalog_text(_read_catalog(args.file))
            print(f"{args.file}: valid")
            return 0
        from pydantic import ValidationError

        from salonbot.config import Settings

        try:
            settings = Settings()
        except ValidationError as error:
            problem = error.errors()[0]
            name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            # The value itself is not echoed: a database URL may carry a password.
            raise CommandError(f"{name}: {problem['msg'].removeprefix('Value error, ')}") from None
        if args.command == "serve":
            return _serve(settings)
        if args.command == "doctor":
            return _doctor(settings)
        location = _locate(settings)
        if args.command in NO_UPGRADE:
            return _backup_or_restore(location, args)
        _upgrade(location)
        if args.command == "migrate":
            print("database schema is at head")
            return 0
        output = asyncio.run(_run(location, args, settings))
        if output:
            print(output)
        return 0
    except CatalogError as error:
        source = f"{args.file}: " if args.command == "catalog" else ""
        print(f"salonbot: {source}{error}", file=sys.stderr)
        return 1
    except (DomainError, CommandError) as error:
        print(f"salonbot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def main() -> None:
    sys.exit(run())
