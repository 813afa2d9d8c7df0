"""The command line's data commands: ``backup``, ``restore`` and ``customer forget``.

Kept apart from ``salonbot.cli`` so that module stays small; like it, this one imports
only the standard library at the top (the CLI must start at once).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.services.forget_customer import Forgotten
    from salonbot.bootstrap import Salonbot
    from salonbot.database import DatabaseLocation

# Commands that must not upgrade the schema first: a backup is of the database as it is
# (taken before an upgrade, it is what a failed upgrade goes back to), and a restore needs
# the database empty.
NO_UPGRADE = frozenset({"backup", "restore"})


def add_data_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup", help="write the whole database to a file (pg_dump's custom format)"
    )
    backup.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="where, or a folder to write it in (default name: salonbot-YYYYMMDD-HHMMSS.dump,"
        " in UTC, here); an existing file is never overwritten",
    )
    restore = commands.add_parser(
        "restore", help="restore a backup into an empty database, then upgrade its schema"
    )
    restore.add_argument(
        "file", type=Path, metavar="FILE", help="the backup; - reads it from standard input"
    )
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace everything in a database that is not empty (in one transaction)",
    )
    customer = commands.add_parser("customer", help="customers' personal data")
    customer_commands = customer.add_subparsers(dest="customer_command", required=True)
    forget = customer_commands.add_parser(
        "forget",
        help="erase a customer's personal data on request; their bookings stay, anonymous",
    )
    forget.add_argument(
        "customer",
        metavar="CUSTOMER",
        help="their id (42), chat (telegram:123456789, whatsapp:4915112345678)"
        " or phone (+49 151 1234567)",
    )


def backup_or_restore(location: DatabaseLocation, args: argparse.Namespace) -> str:
    """Run ``backup`` or ``restore``; raises ``BackupError`` with a line for the user."""
    from datetime import UTC, datetime

    from salonbot.backups import backup, default_name, restore

    where = (
        "the embedded database" if location.server is not None else "the database at DATABASE_URL"
    )
    if args.command == "backup":
        file = args.file or default_name(datetime.now(UTC))
        if file.is_dir():  # a folder of backups (a cron job's): the default name in it
            file = file / default_name(datetime.now(UTC))
        return backup(location.url, file, where)
    if str(args.file) != "-":
        return restore(location.url, args.file, where, force=args.force)
    # From standard input (a backup piped in, over ssh say): kept in a private folder
    # first, since pg_restore reads a custom-format archive more than once.
    import shutil
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="salonbot-restore-") as private:
        kept = Path(private) / "stdin.dump"
        with kept.open("wb") as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy)
        return restore(location.url, kept, where, force=args.force, label="standard input")


async def forget_customer(app: Salonbot, reference: str) -> str:
    from core.services.forget_customer import CustomerReference, ForgetCustomer

    forgotten = await ForgetCustomer(app.uow, app.clock, app.catalogs)(
        CustomerReference.parse(reference)
    )
    return render_forgotten(forgotten)


def render_forgotten(f: Forgotten) -> str:
    again = " (forgotten before; erased what had come since)" if f.forgotten_before else ""
    fields = ", ".join(f.fields) or "nothing (already blank)"
    identity = f" ({f.channel})" if f.channel else ""
    lines = [
        f"customer {f.customer_id} forgotten{again}:",
        f"  erased from the customer: {fields}{identity if 'chat identity' in f.fields else ''}",
        f"  conversations deleted: {f.conversations}",
        f"  inbound events deleted: {f.inbound_events}",
        f"  outbound messages deleted: {f.outbound_messages}",
        f"  messages to staff naming them: {f.staff_messages_deleted} unsent deleted,"
        f" {f.staff_messages_blanked} sent (or failed) blanked",
        f"  calendar pushes blanked: {f.calendar_pushes_scrubbed};"
        f" calendar events queued to be put again without them: {f.calendar_events_requeued}",
        f"  kept, anonymous: {f.bookings_kept} bookings and their history",
    ]
    return "\n".join(lines)
