"""``salonbot backup`` and ``salonbot restore`` on real Postgres: every row of every table
comes back, a database that is not empty is refused (or replaced, with ``--force``, in one
transaction), an older backup is upgraded, a newer one or a file that is no backup refused,
and the password never reaches a command line."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine, start_embedded
from salonbot.migrate import alembic_config, head_revision, upgrade
from salonbot.pg_tools import find
from tests.busy_salon import calendar_of, fill_every_table
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.cli_run import ROOT, cli_environment, salonbot
from tests.db_state import State, dump_tables, rows
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars

SALONBOT = Path(sys.executable).parent / "salonbot"


@pytest.fixture
async def busy(clean_engine: AsyncEngine, clock: FakeClock) -> Salonbot:
    """A salon with a row in every table, its calendar pushes carried out."""
    app = Salonbot(
        clean_engine, clock, linked_calendars=FakeLinkedCalendars(), calendar_of=calendar_of
    )
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(app.uow, clock, document)
    await fill_every_table(app)
    assert app.calendar_pusher is not None
    await app.calendar_pusher.run()
    return app


async def _everything(url: str) -> tuple[State, dict[str, Any]]:
    """Every row of every table in the code's schema, and where each sequence stands and
    the schema revision: what a restore must bring back."""
    engine = make_engine(url, pool_size=1)
    try:
        tables = await dump_tables(engine)
        sequences = {
            str(name): tuple((await rows(engine, f'SELECT last_value, is_called FROM "{name}"'))[0])
            for (name,) in await rows(
                engine, "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
        }
        sequences["alembic_version"] = tuple(
            await rows(engine, "SELECT version_num FROM alembic_version")
        )
    finally:
        await engine.dispose()
    return tables, sequences


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``salonbot ARGS`` in this process, off the test's event loop (it runs its own)."""
    return await asyncio.to_thread(salonbot, env, *args)


async def _objects(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url, pool_size=1)
    try:
        return await rows(
            engine,
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
        )
    finally:
        await engine.dispose()


async def test_a_backup_restored_into_an_empty_database_holds_every_row_of_every_table(
    busy: Salonbot, database_url: str, fresh_database: Any, tmp_path: Path
) -> None:
    before = await _everything(database_url)
    empty = sorted(name for name, table_rows in before[0].items() if not table_rows)
    assert not empty, f"tests/busy_salon.py must put a row in {empty}: else it is not compared"
    backup = tmp_path / "salon.dump"

    code, out, err = await _cli(cli_environment(database_url, tmp_path), "backup", str(backup))
    assert (code, err) == (0, ""), err
    assert f"backup written: {backup}" in out
    assert f"schema revision {head_revision()}" in out
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds personal data
    assert sorted(p.name for p in await asyncio.to_thread(tmp_path.iterdir)) == ["salon.dump"]

    target = await asyncio.to_thread(fresh_database)
    code, out, err = await _cli(cli_environment(target, tmp_path), "restore", str(backup))
    assert (code, err) == (0, ""), err
    assert f"{backup} restored into the database at DATABASE_URL" in out
    assert await _everything(target) == before
    # And the source is as it was: a backup changes nothing.
    assert await _everything(database_url) == before


async def test_a_backup_never_overwrites_a_file(
    busy: Salonbot, database_url: str, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.dump"
    taken.write_text("keep me")
    code, _, err = await _cli(cli_environment(database_url, tmp_path), "backup", str(taken))
    assert code == 1
    assert "exists already" in err
    assert taken.read_text() == "keep me"


async def test_the_default_backup_name_is_the_utc_time_here_or_in_a_folder_given(
    busy: Salonbot, database_url: str, tmp_path: Path
) -> None:
    env = cli_environment(database_url, tmp_path)
    code, out, err = await _cli(env, "backup", str(tmp_path))
    assert (code, err) == (0, ""), err
    (written,) = await asyncio.to_thread(lambda: list(tmp_path.glob("salonbot-*.dump")))
    assert re.fullmatch(r"salonbot-\d{8}-\d{6}\.dump", written.name)
    assert f"backup written: {written} (" in out
    code, out, err = await _cli(env, "backup")
    assert (code, err) == (0, ""), err
    name = out.split("backup written: ")[1].split(" ")[0]
    here = ROOT / name  # the CLI runs in the repository's root in these tests
    try:
        assert re.fullmatch(r"salonbot-\d{8}-\d{6}\.dump", name)
        assert here.is_file()
    finally:
        here.unlink(missing_ok=True)


async def test_a_database_that_is_not_empty_is_refused_and_kept_then_replaced_with_force(
    busy: Salonbot, database_url: str, fresh_database: Any, tmp_path: Path
) -> None:
    backup = tmp_path / "salon.dump"
    env = cli_environment(database_url, tmp_path)
    assert (await _cli(env, "backup", str(backup)))[0] == 0
    before = await _everything(database_url)
    # Another salon's database: migrated, with a catalog and a table of its own.
    other = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(upgrade, other)
    code, _, err = await _cli(
        cli_environment(other, tmp_path), "catalog", "load", str(EXAMPLE_CATALOG)
    )
    assert code == 0, err
    engine = make_engine(other, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (line text)"))
            await connection.execute(text("INSERT INTO notes VALUES ('mine')"))
    finally:
        await engine.dispose()
    untouched = await _everything(other)

    code, _, err = await _cli(cli_environment(other, tmp_path), "restore", str(backup))
    assert code == 1
    assert "is not empty" in err
    assert "--force" in err
    assert "salon_catalog" in err  # which of salonbot's tables have rows
    assert await _everything(other) == untouched

    code, out, err = await _cli(cli_environment(other, tmp_path), "restore", "--force", str(backup))
    assert (code, err) == (0, ""), err
    assert "replaced everything in the database at DATABASE_URL" in out
    assert await _everything(other) == before
    assert ("public", "notes") not in await _objects(other)  # everything replaced


async def test_a_forced_restore_that_fails_changes_nothing(
    busy: Salonbot, database_url: str, fresh_database: Any, tmp_path: Path
) -> None:
    backup = tmp_path / "salon.dump"
    assert (await _cli(cli_environment(database_url, tmp_path), "backup", str(backup)))[0] == 0
    # A database without the public schema: the drop goes through, then creating the
    # first table fails, after the drop.
    other = await asyncio.to_thread(fresh_database)
    engine = make_engine(other, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA elsewhere"))
            await connection.execute(text("CREATE TABLE elsewhere.notes (line text)"))
            await connection.execute(text("INSERT INTO elsewhere.notes VALUES ('mine')"))
    finally:
        await engine.dispose()

    code, _, err = await _cli(cli_environment(other, tmp_path), "restore", "--force", str(backup))
    assert code == 1
    assert "the restore failed and changed nothing" in err
    assert await _objects(other) == [("elsewhere", "notes")]


async def test_an_older_backup_is_restored_then_upgraded_to_head(
    fresh_database: Any, tmp_path: Path
) -> None:
    head = head_revision()
    assert head is not None
    from alembic.script import ScriptDirectory

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(previous, str)
    old = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(upgrade, old, previous)
    backup = tmp_path / "old.dump"
    code, out, err = await _cli(cli_environment(old, tmp_path), "backup", str(backup))
    assert (code, err) == (0, ""), err
    assert f"schema revision {previous};" in out

    target = await asyncio.to_thread(fresh_database)
    code, out, err = await _cli(cli_environment(target, tmp_path), "restore", str(backup))
    assert (code, err) == (0, ""), err
    assert f"schema revision {previous}, upgraded to {head} (head)" in out
    assert (await _everything(target))[1]["alembic_version"] == ((head,),)


async def test_a_backup_from_a_newer_salonbot_is_refused_before_the_database_is_touched(
    fresh_database: Any, tmp_path: Path
) -> None:
    newer = await asyncio.to_thread(fresh_database)
    await asyncio.to_thread(upgrade, newer)
    engine = make_engine(newer, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    backup = tmp_path / "newer.dump"
    assert (await _cli(cli_environment(newer, tmp_path), "backup", str(backup)))[0] == 0

    target = await asyncio.to_thread(fresh_database)
    code, _, err = await _cli(cli_environment(target, tmp_path), "restore", str(backup))
    assert code == 1
    assert "from a newer salonbot (schema revision 9999)" in err
    assert await _objects(target) == []


@pytest.mark.parametrize("content", [b"", b"not a dump at all\n", b"PGDMP\x01\x0e"])
async def test_a_file_that_is_not_a_salonbot_backup_is_refused(
    fresh_database: Any, tmp_path: Path, content: bytes
) -> None:
    target = await asyncio.to_thread(fresh_database)
    bogus = tmp_path / "bogus.dump"
    bogus.write_bytes(content)
    code, out, err = await _cli(cli_environment(target, tmp_path), "restore", str(bogus))
    assert (code, out) == (1, "")
    assert f"salonbot: {bogus} is not a backup pg_restore can read" in err
    assert "\n" not in err.strip()
    code, _, err = await _cli(cli_environment(target, tmp_path), "restore", str(tmp_path / "nope"))
    assert code == 1
    assert "is not a file" in err
    assert await _objects(target) == []


async def test_a_database_without_salonbots_schema_has_nothing_to_back_up(
    fresh_database: Any, tmp_path: Path
) -> None:
    code, _, err = await _cli(
        cli_environment(await asyncio.to_thread(fresh_database), tmp_path), "backup", "x.dump"
    )
    assert code == 1
    assert "has no salonbot schema: nothing to back up" in err
    assert not (ROOT / "x.dump").exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "postgresql://salon:hunter2@127.0.0.1:9/salon",
            "cannot use the database at DATABASE_URL:",
        ),
        ("postgresql://salon:hunter2@127.0.0.1:99999/salon", "port is not a number from 1 to"),
    ],
)
@pytest.mark.parametrize("command", ["backup", "restore"])
async def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(
    busy: Salonbot, database_url: str, tmp_path: Path, url: str, said: str, command: str
) -> None:
    backup = tmp_path / "salon.dump"
    assert (await _cli(cli_environment(database_url, tmp_path), "backup", str(backup)))[0] == 0
    if command == "backup":
        backup = tmp_path / "another.dump"
    code, out, err = await _cli(cli_environment(url, tmp_path), command, str(backup))
    assert (code, out) == (1, "")
    assert err.startswith("salonbot: ")
    assert said in err
    assert "\n" not in err.strip()
    assert "hunter2" not in err


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def _spy(directory: Path, name: str, real: Path, log: Path) -> None:
    """A ``name`` that records its arguments and whether it got a password in its
    environment, then runs the real program."""
    script = directory / name
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{log}"\n'
        f'[ -n "$PGPASSWORD" ] && echo "password in environment" >> "{log}"\n'
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)


async def test_the_password_reaches_pg_dump_through_its_environment_never_its_arguments(
    busy: Salonbot, database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        major = int((await rows(engine, "SHOW server_version_num"))[0][0]) // 10000
    finally:
        await engine.dispose()
    real = await asyncio.to_thread(find, "pg_dump", major)
    spies, log = tmp_path / "bin", tmp_path / "calls.log"
    spies.mkdir()
    _spy(spies, "pg_dump", real.path, log)
    _spy(spies, "pg_restore", real.sibling("pg_restore").path, log)
    # The test servers trust local connections: the password is carried, not checked.
    env = cli_environment(_with_password(database_url, "s3cret-pw"), tmp_path)
    env["PATH"] = f"{spies}{os.pathsep}{env.get('PATH', '')}"
    env["PGPASSWORD"] = "from-the-callers-environment"  # never passed on: the URL decides

    code, out, err = await _cli(env, "backup", str(tmp_path / "salon.dump"))
    assert (code, err) == (0, ""), err
    calls = log.read_text()
    assert "--format=custom" in calls  # the spy was run, not another pg_dump
    assert "password in environment" in calls
    assert "s3cret-pw" not in calls + out
    assert "from-the-callers-environment" not in calls


@pytest.fixture
def embedded_data() -> Iterator[Path]:
    """A data directory for an embedded server, outside pytest's temporary directories:
    another pytest session on the machine resets their permissions, which the server's
    own system user needs."""
    data = Path(tempfile.mkdtemp(prefix="salonbot-test-embedded-"))
    try:
        yield data
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def test_a_backup_of_the_embedded_database_restores_into_a_server(
    fresh_database: Any, tmp_path: Path, embedded_data: Path
) -> None:
    """The whole way a salon moves from trying salonbot to running it: the embedded
    database (its own server in a wheel, started by the command) backed up, and restored
    into a Postgres server."""
    data = embedded_data
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SALONBOT_DATA_DIR"] = str(data)
    backup = tmp_path / "embedded.dump"
    for args in (["catalog", "load", str(EXAMPLE_CATALOG)], ["backup", str(backup)]):
        done = await asyncio.to_thread(
            subprocess.run,
            [str(SALONBOT), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "for a PostgreSQL" in done.stdout

    target = await asyncio.to_thread(fresh_database)
    code, _out, err = await _cli(cli_environment(target, tmp_path), "restore", str(backup))
    assert (code, err) == (0, ""), err
    location = await asyncio.to_thread(start_embedded, data)
    try:
        assert await _everything(target) == await _everything(location.url)
    finally:
        location.server.cleanup()


async def test_a_backup_piped_to_standard_input_is_restored(
    busy: Salonbot, database_url: str, fresh_database: Any, tmp_path: Path
) -> None:
    """``salonbot restore -``: how a backup reaches a container that cannot see its file."""
    backup = tmp_path / "salon.dump"
    assert (await _cli(cli_environment(database_url, tmp_path), "backup", str(backup)))[0] == 0
    before = await _everything(database_url)
    target = await asyncio.to_thread(fresh_database)

    def restore_piped() -> subprocess.CompletedProcess[bytes]:
        with backup.open("rb") as piped:
            return subprocess.run(
                [str(SALONBOT), "restore", "-"],
                env=cli_environment(target, tmp_path),
                cwd=ROOT,
                stdin=piped,
                capture_output=True,
                timeout=180,
                check=False,
            )

    done = await asyncio.to_thread(restore_piped)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert done.stdout.startswith(b"standard input restored into the database at DATABASE_URL")
    assert await _everything(target) == before
