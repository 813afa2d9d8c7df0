"""``salonbot backup`` and ``salonbot restore``: the whole database as one ``pg_dump`` archive
(custom format), and back.

A backup is taken while salonbot runs (``pg_dump`` reads one consistent snapshot) and is
written beside its final name first, so a failed or interrupted one leaves no file that
looks whole; it is readable only by its owner (it holds customers' personal data).

A restore goes into an empty database, or with ``force`` replaces everything in one; either
way in a single transaction, so a restore that fails changes nothing. The archive is read
before the database is touched: one that is not a salonbot backup, or that comes from a
newer salonbot than this one, is refused. After it, the schema is brought to head like on
every start.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, Table, exists, literal, select, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from core.db.tables import metadata
from salonbot.config import child_environment
from salonbot.database import make_engine
from salonbot.migrate import head_revision, known_revisions, upgrade
from salonbot.pg_tools import (
    PgTool,
    PgToolError,
    find,
    libpq_environment,
    newest,
    without_secrets,
)


class BackupError(Exception):
    """A backup or a restore that cannot go ahead, or failed: one line for the user."""


def default_name(now: datetime) -> Path:
    """``salonbot-YYYYMMDD-HHMMSS.dump`` at ``now`` (aware), in UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return Path(f"salonbot-{now.astimezone(UTC):%Y%m%d-%H%M%S}.dump")


# Everything in the database's own schemas (not Postgres's, not an extension's), each
# with the statement that drops it: what makes a database "not empty", and what ``--force``
# drops. Relations first (their triggers and defaults go with them), then routines
# (salonbot's migrations create trigger functions), then types.
_USER_OBJECTS = """
WITH own AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
), extension_member AS (
    SELECT objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 1 AS step, c.relname AS name, format('DROP %s IF EXISTS %I.%I CASCADE',
    CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
    own.nspname, c.relname) AS statement
FROM pg_class c JOIN own ON own.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND c.oid NOT IN (SELECT objid FROM extension_member)
UNION ALL
SELECT 2, p.proname, format('DROP %s IF EXISTS %I.%I(%s) CASCADE',
    CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
    own.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN own ON own.oid = p.pronamespace
WHERE p.oid NOT IN (SELECT objid FROM extension_member)
UNION ALL
SELECT 3, t.typname, format('DROP TYPE IF EXISTS %I.%I CASCADE', own.nspname, t.typname)
FROM pg_type t JOIN own ON own.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND t.oid NOT IN (SELECT objid FROM extension_member)
"""
_DROP_EVERYTHING = f"""
DO $$
DECLARE found record;
BEGIN
  FOR found IN SELECT statement FROM ({_USER_OBJECTS}) AS objects ORDER BY step LOOP
    EXECUTE found.statement;
  END LOOP;
END
$$;
"""  # noqa: S608 (constant text, no input)
_QUIET = "SET client_min_messages = warning;"
# A salonbot still serving on the database holds locks the drop would wait for forever.
_LOCK_TIMEOUT = "SET lock_timeout = '30s';"


def _has_rows(table: Table) -> Select[tuple[bool]]:
    # No column named: the database's schema may be older than the code's.
    return select(exists(select(literal(1)).select_from(table)))


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What a backup or a restore needs to know of the database first."""

    major: int
    revision: str | None
    objects: int
    tables_with_rows: tuple[str, ...]


async def _server_facts(url: str) -> ServerFacts:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            version = int(await connection.scalar(text("SHOW server_version_num")) or 0)
            objects = (await connection.execute(text(_USER_OBJECTS))).all()
            tables = set(
                (
                    await connection.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                    )
                ).scalars()
            )
            revision = None
            if "alembic_version" in tables:
                revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            with_rows = []
            for table in metadata.sorted_tables:
                if table.name in tables and await connection.scalar(_has_rows(table)):
                    with_rows.append(table.name)
    finally:
        await engine.dispose()
    return ServerFacts(version // 10000, revision, len(objects), tuple(with_rows))


def server_facts(url: str, where: str) -> ServerFacts:
    try:
        return asyncio.run(_server_facts(url))
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split())
        raise BackupError(f"cannot use {where}: {reason}") from None
    except (OSError, ValueError, OverflowError, TypeError, ArgumentError) as error:
        # None of these messages quote the URL, which may hold a password.
        reason = " ".join(str(error).split())
        raise BackupError(f"cannot use {where}: {reason}") from None


def _run(tool: PgTool, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (a Postgres program, arguments of our own)
        [str(tool.path), *args],
        env=child_environment(env),
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )


def _complaint(said: subprocess.CompletedProcess[str], env: dict[str, str]) -> str:
    """The first lines of a failed program's error output, one line, without secrets."""
    lines = [line.strip() for line in said.stderr.splitlines() if line.strip()]
    return without_secrets(" / ".join(lines[:3])[:600], env) or f"exit status {said.returncode}"


def backup(url: str, file: Path, where: str) -> str:
    """Write the database at ``url`` to ``file``; what to tell the user."""
    env = libpq_environment(url)
    facts = server_facts(url, where)
    if facts.revision is None:
        raise BackupError(f"{where} has no salonbot schema: nothing to back up")
    try:
        dump = find("pg_dump", facts.major)
        reader = dump.sibling("pg_restore")
    except PgToolError as error:
        raise BackupError(str(error)) from None
    if file.exists():
        raise BackupError(f"{file} exists already: choose another name")
    partial = file.with_name(file.name + ".partial")
    try:
        # Only its owner may read it: it holds the customers' personal data.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{partial} exists: another backup is being written there") from None
    except OSError as error:
        raise BackupError(f"cannot write {file}: {error.strerror}") from None
    try:
        said = _run(dump, ["--format=custom", "--no-password", f"--file={partial}"], env)
        if said.returncode != 0:
            raise BackupError(f"pg_dump failed: {_complaint(said, env)}")
        listed = _run(reader, ["--list", str(partial)], env)
        if listed.returncode != 0:
            raise BackupError(f"the backup written cannot be read back: {_complaint(listed, env)}")
        partial.rename(file)
    finally:
        partial.unlink(missing_ok=True)
    size = file.stat().st_size
    return (
        f"backup written: {file} ({size:,} bytes; schema revision {facts.revision};"
        f" pg_dump {dump.major} for a PostgreSQL {facts.major} server)"
    )


@dataclass(frozen=True, slots=True)
class ArchiveFacts:
    dump_major: int
    revision: str


def archive_facts(file: Path, name: str) -> ArchiveFacts:
    """What ``file`` (called ``name`` to the user) is, read with the newest ``pg_restore``
    found (it reads every older archive); ``BackupError`` when it is not a salonbot backup."""
    if not file.is_file():
        raise BackupError(f"{name} is not a file")
    try:
        reader = newest("pg_restore")
    except PgToolError as error:
        raise BackupError(str(error)) from None
    listed = _run(reader, ["--list", str(file)], {})
    if listed.returncode != 0:
        raise BackupError(f"{name} is not a backup pg_restore can read: {_complaint(listed, {})}")
    version = re.search(r"Dumped by pg_dump version: (\S+)", listed.stdout)
    data = _run(reader, ["--data-only", "--table=alembic_version", "--file=-", str(file)], {})
    revision = _copied_revision(data.stdout) if data.returncode == 0 else None
    if version is None or revision is None:
        raise BackupError(f"{name} is not a salonbot backup (it holds no schema revision)")
    return ArchiveFacts(int(version.group(1).split(".")[0]), revision)


def _copied_revision(script: str) -> str | None:
    """The revision in ``alembic_version``'s COPY block of a restore script."""
    lines = script.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and ".alembic_version " in line:
            value = lines[index + 1].strip() if index + 1 < len(lines) else "\\."
            return None if value == "\\." else value
    return None


def restore(url: str, file: Path, where: str, *, force: bool, label: str | None = None) -> str:
    """Restore ``file`` (called ``label`` to the user, else by its path) into the database
    at ``url`` (empty, or replaced when ``force``), then bring its schema to head; what to
    tell the user."""
    name = label or str(file)
    archive = archive_facts(file, name)
    if archive.revision not in known_revisions():
        raise BackupError(
            f"{name} is from a newer salonbot (schema revision {archive.revision}): restore it"
            " with that version, or a later one"
        )
    env = libpq_environment(url)
    facts = server_facts(url, where)
    if facts.objects and not force:
        rows = ", ".join(facts.tables_with_rows[:5]) or "none"
        more = len(facts.tables_with_rows) - 5
        raise BackupError(
            f"{where} is not empty ({facts.objects} tables, sequences and"
            f" functions;"
            f" salonbot tables with rows: {rows}{f' and {more} more' if more > 0 else ''}):"
            " restore into an empty database, or replace everything in it with --force"
        )
    try:
        reader = find("pg_restore", archive.dump_major)
        psql = reader.sibling("psql")
    except PgToolError as error:
        raise BackupError(str(error)) from None
    with tempfile.TemporaryDirectory(prefix="salonbot-restore-") as private:
        # The archive as SQL first, whole: fed to psql through a pipe, a pg_restore that
        # failed halfway would leave psql a truncated script to commit.
        script = Path(private) / "restore.sql"
        written = _run(reader, ["--no-owner", "--no-acl", f"--file={script}", str(file)], {})
        if written.returncode != 0:
            raise BackupError(f"pg_restore cannot read {name}: {_complaint(written, {})}")
        commands = [f"--command={_QUIET} {_LOCK_TIMEOUT}"]
        if force:
            commands.append(f"--command={_DROP_EVERYTHING}")
        applied = _run(
            psql,
            [
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                *commands,
                f"--file={script}",
            ],
            env,
        )
    if applied.returncode != 0:
        hint = ""
        if "lock timeout" in applied.stderr:
            hint = " (is salonbot still running on it? stop it first)"
        raise BackupError(
            f"the restore failed and changed nothing{hint}: {_complaint(applied, env)}"
        )
    try:
        upgrade(url)
    except Exception as error:  # one line, not a traceback: the data is in, the schema not
        raise BackupError(
            f"restored into {where}, but bringing its schema to head failed "
            f"({type(error).__name__}); run `salonbot migrate` once the cause is fixed"
        ) from None
    after = server_facts(url, where).revision
    migrated = "" if after == archive.revision else f", upgraded to {after}"
    head = " (head)" if after == head_revision() else ""
    replaced = "replaced everything in" if force and facts.objects else "restored into"
    return f"{name} {replaced} {where}: schema revision {archive.revision}{migrated}{head}"
