"""Which Postgres program salonbot runs for a server, and how it tells that program where
the database is: never with the password on its command line."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from salonbot.backups import _copied_revision, default_name
from salonbot.pg_tools import (
    PgTool,
    PgToolError,
    candidate_paths,
    choose,
    libpq_environment,
    major_version,
    probe,
    without_secrets,
)


def test_a_url_becomes_libpqs_variables_with_the_password_decoded() -> None:
    env = libpq_environment("postgresql://salon%40x:p%40ss%3Aw%2Frd@db.example:6432/salon%20db")
    assert env == {
        "PGHOST": "db.example",
        "PGPORT": "6432",
        "PGUSER": "salon@x",
        "PGPASSWORD": "p@ss:w/rd",
        "PGDATABASE": "salon db",
    }


def test_the_embedded_servers_socket_url_names_its_socket_directory() -> None:
    env = libpq_environment("postgresql://postgres:@/salonbot?host=/tmp/pgserver%20x/sock")
    assert env == {"PGHOST": "/tmp/pgserver x/sock", "PGUSER": "postgres", "PGDATABASE": "salonbot"}


def test_ssl_settings_carry_over_and_asyncpgs_own_parameters_are_left_out() -> None:
    assert libpq_environment("postgresql://u@h/d?sslmode=verify-full&sslrootcert=/ca.pem") == {
        "PGHOST": "h",
        "PGUSER": "u",
        "PGDATABASE": "d",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/ca.pem",
    }
    env = libpq_environment(
        "postgresql+asyncpg://u@[::1]:5433/d?ssl=true&prepared_statement_cache_size=0"
    )
    assert env == {
        "PGHOST": "::1",
        "PGPORT": "5433",
        "PGUSER": "u",
        "PGDATABASE": "d",
        "PGSSLMODE": "require",
    }


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u:secret@h/d", "not a postgresql:// URL"),
        ("postgresql://u:secret@h:99999/d", "port"),
    ],
)
def test_a_url_libpq_cannot_take_is_one_line_without_the_password(url: str, said: str) -> None:
    with pytest.raises(PgToolError) as refused:
        libpq_environment(url)
    assert said in str(refused.value)
    assert "secret" not in str(refused.value)


def test_a_programs_complaint_never_shows_the_password() -> None:
    env = {"PGPASSWORD": "hunter2"}
    assert without_secrets('FATAL: password "hunter2" wrong', env) == 'FATAL: password "***" wrong'
    assert without_secrets("no password here", {}) == "no password here"


@pytest.mark.parametrize(
    ("said", "major"),
    [
        ("pg_dump (PostgreSQL) 16.2", 16),
        ("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", 15),
        ("pg_restore (PostgreSQL) 17beta1", 17),
        ("9.6.24", 9),
        ("nothing", None),
    ],
)
def test_the_major_version_is_read_from_a_version_line(said: str, major: int | None) -> None:
    assert major_version(said) == major


FOUND = [
    PgTool(Path("/a/pg_dump"), 17),
    PgTool(Path("/b/pg_dump"), 15),
    PgTool(Path("/c/pg_dump"), 16),
    PgTool(Path("/d/pg_dump"), 15),
]


def test_the_oldest_program_as_new_as_the_server_is_chosen_the_first_found_of_a_tie() -> None:
    assert choose("pg_dump", 15, FOUND) == PgTool(Path("/b/pg_dump"), 15)
    assert choose("pg_dump", 16, FOUND) == PgTool(Path("/c/pg_dump"), 16)
    assert choose("pg_dump", 12, FOUND).major == 15


def test_no_program_new_enough_says_what_was_found_and_what_to_install() -> None:
    with pytest.raises(PgToolError) as refused:
        choose("pg_dump", 18, FOUND)
    message = str(refused.value)
    assert "no pg_dump of PostgreSQL 18 or newer" in message
    assert "17 (/a/pg_dump)" in message
    assert "15 (/b/pg_dump)" in message
    assert "postgresql-client-18" in message
    with pytest.raises(PgToolError, match="found: none"):
        choose("pg_dump", 16, [])


def _program(path: Path, script: str) -> Path:
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_programs_that_run_and_say_their_version_are_found_the_others_left_out(
    tmp_path: Path,
) -> None:
    good = _program(tmp_path / "good", 'echo "pg_dump (PostgreSQL) 14.11"')
    broken = _program(tmp_path / "broken", "exit 1")
    mute = _program(tmp_path / "mute", "echo hello")
    assert probe([good, broken, mute, tmp_path / "missing"]) == [PgTool(good, 14)]


def test_a_sibling_comes_from_the_same_installation(tmp_path: Path) -> None:
    dump = PgTool(_program(tmp_path / "pg_dump", "true"), 16)
    _program(tmp_path / "pg_restore", "true")
    assert dump.sibling("pg_restore") == PgTool(tmp_path / "pg_restore", 16)
    with pytest.raises(PgToolError, match="psql is missing"):
        dump.sibling("psql")


def test_the_default_backup_name_is_the_time_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    assert default_name(datetime(2026, 12, 9, 0, 30, 5, tzinfo=berlin)) == Path(
        "salonbot-20261208-233005.dump"
    )
    assert (
        default_name(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)).name
        == "salonbot-20260102-030405.dump"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        default_name(datetime(2026, 1, 2))  # noqa: DTZ001 - the naive time refused


def test_the_schema_revision_is_read_from_a_restore_scripts_copy_block() -> None:
    script = "SET x = 1;\nCOPY public.alembic_version (version_num) FROM stdin;\n0014\n\\.\n"
    assert _copied_revision(script) == "0014"
    assert _copied_revision("COPY public.alembic_version (version_num) FROM stdin;\n\\.\n") is None
    assert _copied_revision("COPY public.bookings (id) FROM stdin;\n1\n\\.\n") is None


def test_path_comes_first_and_debians_version_picking_wrapper_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper = _program(tmp_path / "pg_wrapper", 'echo "pg_dump (PostgreSQL) 17.1"')
    wrapped, plain = tmp_path / "wrapped", tmp_path / "plain"
    wrapped.mkdir()
    plain.mkdir()
    (wrapped / "pg_dump").symlink_to(wrapper)
    own = _program(plain / "pg_dump", 'echo "pg_dump (PostgreSQL) 16.9"')
    monkeypatch.setenv("PATH", str(wrapped))
    assert wrapped / "pg_dump" not in candidate_paths("pg_dump")
    monkeypatch.setenv("PATH", str(plain))
    assert candidate_paths("pg_dump")[0] == own
