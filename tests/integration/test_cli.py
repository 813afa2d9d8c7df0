"""The ``salonbot`` command line against a fresh database.

Most tests run the command in this process (``salonbot.cli.run``, what the console script
calls) with its own environment, working directory, stdin, stdout and stderr: starting a
Python process per command cost most of the suite's time. What only a process shows runs
the installed console script for real (``_salonbot_process``): the embedded server stopped
when the last process exits, piped stdin, a command that must not touch any database.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salonbot import cli
from salonbot.database import make_engine, with_database
from tests.catalog_cases import BILLION_LAUGHS, BROKEN, DEMO_TEXT, Broken
from tests.cli_run import salonbot
from tests.db_state import State, dump_tables

ROOT = Path(__file__).resolve().parents[2]
SALONBOT = Path(sys.executable).parent / "salonbot"
BERLIN = ZoneInfo("Europe/Berlin")
Env = dict[str, str]


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


def _env(database_url: str, data_dir: Path, pycache: Path) -> Env:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    # Each run imports SQLAlchemy and Alembic afresh: let the runs share compiled bytecode,
    # kept in a temp dir (never next to the sources) even where writing it is turned off.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        DATABASE_URL=database_url,
        SALONBOT_DATA_DIR=str(data_dir),
        PYTHONPYCACHEPREFIX=str(pycache),
    )
    return env


def _salonbot(env: Env, *args: str, typed: str | None = None) -> subprocess.CompletedProcess[str]:
    """``salonbot ARGS`` in this process, as the console script runs it: its exit status
    and everything it wrote."""
    code, out, err = salonbot(env, *args, typed=typed or "")
    return subprocess.CompletedProcess(["salonbot", *args], code, out, err)


def _salonbot_process(
    env: Env, *args: str, typed: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed console script, run for real in a new process."""
    return subprocess.run(
        [str(SALONBOT), *args],
        env=env,
        cwd=ROOT,
        input=typed,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _dump(database_url: str) -> State:
    async def dump() -> State:
        engine = make_engine(database_url, pool_size=1)
        try:
            return await dump_tables(engine)
        finally:
            await engine.dispose()

    return asyncio.run(dump())


@pytest.fixture
def empty_env(fresh_database: Callable[[], str], tmp_path: Path, pycache: Path) -> tuple[Env, str]:
    """Settings pointing at a new, empty database (no schema yet)."""
    url = fresh_database()
    return _env(url, tmp_path / "data", pycache), url


class Loaded:
    """A database migrated and loaded with the demo catalog by the CLI, shared by a module."""

    def __init__(self, env: Env, url: str) -> None:
        self.env = env
        self.url = url
        self.migrate = _salonbot(env, "migrate")
        self.load = _salonbot(env, "catalog", "load", "examples/salon.yaml")


@pytest.fixture(scope="module")
def loaded(
    fresh_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory, pycache: Path
) -> Loaded:
    url = fresh_database()
    return Loaded(_env(url, tmp_path_factory.mktemp("data"), pycache), url)


def _next_tuesday() -> date:
    """A Tuesday more than two days from today in Berlin: bookable whatever today is."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    while day.isoweekday() != 2:
        day += timedelta(days=1)
    return day


def test_migrate_brings_an_empty_database_to_the_schema(empty_env: tuple[Env, str]) -> None:
    env, url = empty_env

    run = _salonbot(env, "migrate")

    assert (run.returncode, run.stdout, run.stderr) == (0, "database schema is at head\n", "")
    state = _dump(url)  # fails if any table is missing
    assert "bookings" in state
    assert all(rows == [] for rows in state.values())


def test_catalog_load_applies_the_demo_then_reports_it_unchanged(loaded: Loaded) -> None:
    assert loaded.migrate.returncode == 0, loaded.migrate.stderr
    assert (loaded.load.returncode, loaded.load.stderr) == (0, "")
    assert loaded.load.stdout == (
        "catalog loaded from examples/salon.yaml\n"
        "  services added: brow-shaping, colouring, lash-lift, manicure, mens-haircut, "
        "pedicure, womens-haircut\n"
        "  staff added: anna, maria, olga\n"
    )
    before = _dump(loaded.url)

    again = _salonbot(loaded.env, "catalog", "load", "examples/salon.yaml")

    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        "catalog unchanged (examples/salon.yaml)\n",
        "",
    )
    assert _dump(loaded.url) == before
    assert len(before["services"]) == 7
    assert len(before["staff"]) == 3


CLI_BROKEN = [
    case
    for case in BROKEN
    if case.name
    in (
        "text that is not YAML",
        "hours until 25:00",
        "a staff member offers an unknown service",
    )
]


@pytest.mark.parametrize("case", CLI_BROKEN, ids=[case.name for case in CLI_BROKEN])
def test_a_broken_catalog_exits_1_with_its_problem_and_changes_nothing(
    loaded: Loaded, tmp_path: Path, case: Broken
) -> None:
    broken = tmp_path / "salon.yaml"
    broken.write_text(case.text, encoding="utf-8")
    before = _dump(loaded.url)

    run = _salonbot(loaded.env, "catalog", "load", str(broken))

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == f"salonbot: {broken}: invalid catalog: {case.problem}\n"
    assert _dump(loaded.url) == before


def test_catalog_check_validates_without_touching_any_database(
    tmp_path: Path, pycache: Path
) -> None:
    # A DATABASE_URL that any database access would refuse.
    env = _env("mysql://nobody@nowhere/salon", tmp_path / "data", pycache)
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEMO_TEXT.replace("Europe/Berlin", "Europe/Berlim"), encoding="utf-8")

    valid = _salonbot_process(env, "catalog", "check", "examples/salon.yaml")
    invalid = _salonbot_process(env, "catalog", "check", str(broken))

    assert (valid.returncode, valid.stdout, valid.stderr) == (0, "examples/salon.yaml: valid\n", "")
    assert (invalid.returncode, invalid.stdout) == (1, "")
    assert invalid.stderr == (
        f"salonbot: {broken}: invalid catalog: "
        "salon.timezone: 'Europe/Berlim': not an IANA time zone (for example Europe/Berlin)\n"
    )
    assert not (tmp_path / "data").exists()  # no embedded server was started either


CHECK_BROKEN = [
    case
    for case in BROKEN
    if case.name
    in (
        "an exception on a day the calendar does not have",
        "a duration too long for any timedelta",
        "a booking horizon beyond three years",
        "a policy given twice",
        "an exception running past midnight into the next day's weekly hours",
        "weekly hours running past midnight into an exception's hours",
    )
]


@pytest.mark.parametrize("case", CHECK_BROKEN, ids=[case.name for case in CHECK_BROKEN])
def test_catalog_check_prints_the_problem_of_input_that_once_crashed_or_slipped_through(
    tmp_path: Path, pycache: Path, case: Broken
) -> None:
    env = _env("mysql://nobody@nowhere/salon", tmp_path / "data", pycache)
    broken = tmp_path / "salon.yaml"
    broken.write_text(case.text, encoding="utf-8")

    run = _salonbot(env, "catalog", "check", str(broken))

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == f"salonbot: {broken}: invalid catalog: {case.problem}\n"


def test_slots_are_printed_in_the_salons_local_time(loaded: Loaded) -> None:
    tuesday = _next_tuesday()

    run = _salonbot(
        loaded.env, "slots", "manicure", "--staff", "maria", "--from", str(tuesday), "--days", "1"
    )

    assert (run.returncode, run.stderr) == (0, "")
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        f"Manicure with Maria, {tuesday} to {tuesday} (Europe/Berlin)",
        f"{tuesday:%a %Y-%m-%d}",
    ]
    offset = datetime(tuesday.year, tuesday.month, tuesday.day, 9, tzinfo=BERLIN).strftime("%z")
    # Maria works 09:00-18:00 on Tuesdays; a 1 h manicure can start 09:00 to 17:00.
    assert lines[2] == f"  09:00 (UTC{offset})  Maria"
    assert lines[-1] == f"  17:00 (UTC{offset})  Maria"
    assert "  12:30" not in run.stdout  # would run into the 13:00-13:30 break


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nail-art",), "salonbot: no service 'nail-art' in the catalog\n"),
        (("manicure", "--staff", "anna"), "salonbot: 'anna' does not perform 'manicure'\n"),
    ],
    ids=["unknown service", "staff who does not perform it"],
)
def test_slots_for_something_the_salon_does_not_offer_is_a_clear_error(
    loaded: Loaded, args: tuple[str, ...], message: str
) -> None:
    run = _salonbot(loaded.env, "slots", *args)

    assert (run.returncode, run.stdout, run.stderr) == (1, "", message)


def test_slots_before_any_catalog_is_loaded_says_what_to_do(empty_env: tuple[Env, str]) -> None:
    env, _ = empty_env

    run = _salonbot(env, "slots", "manicure")

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == ("salonbot: no catalog is loaded yet: run `salonbot catalog load FILE`\n")


def test_a_bad_date_is_a_usage_error_without_a_traceback(loaded: Loaded) -> None:
    run = _salonbot(loaded.env, "slots", "manicure", "--from", "2026-02-30")

    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == (
        "salonbot slots: error: argument --from: '2026-02-30' is not a date (YYYY-MM-DD)"
    )


def test_a_database_url_that_is_not_postgres_is_one_line_naming_it(
    tmp_path: Path, pycache: Path
) -> None:
    env = _env("mysql://salon:s3cret@db.example/salon", tmp_path / "data", pycache)

    run = _salonbot(env, "migrate")

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        "salonbot: DATABASE_URL: must be a postgresql:// URL (salonbot runs on Postgres only)\n"
    )


def test_a_database_that_cannot_be_opened_is_one_line_naming_it(
    server_url: str, tmp_path: Path, pycache: Path
) -> None:
    env = _env(with_database(server_url, "salonbot_no_such_db"), tmp_path / "data", pycache)

    run = _salonbot(env, "migrate")

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        "salonbot: cannot use the database at DATABASE_URL: "
        'database "salonbot_no_such_db" does not exist\n'
    )


def test_a_database_url_with_libpqs_sslmode_is_used(
    fresh_database: Callable[[], str], tmp_path: Path, pycache: Path
) -> None:
    url = fresh_database()
    # prefer: SSL where the server offers it, plain otherwise, so any test server will do.
    with_sslmode = url + ("&" if "?" in url else "?") + "sslmode=prefer"

    run = _salonbot(_env(with_sslmode, tmp_path / "data", pycache), "migrate")

    assert (run.returncode, run.stdout, run.stderr) == (0, "database schema is at head\n", "")
    assert "bookings" in _dump(url)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("?connect_timeout=5", "connect() got an unexpected keyword argument 'connect_timeout'"),
        ("?sslmode=bogus", "`sslmode` parameter must be one of: disable, allow, prefer, require, "),
    ],
    ids=["a libpq parameter asyncpg lacks", "an sslmode that is none"],
)
def test_a_database_url_asyncpg_cannot_take_is_one_line_without_the_url(
    tmp_path: Path, pycache: Path, query: str, reason: str
) -> None:
    env = _env(f"postgresql://salon:s3cret@127.0.0.1:1/salon{query}", tmp_path / "data", pycache)

    run = _salonbot(env, "migrate")

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.startswith(f"salonbot: cannot use the database at DATABASE_URL: {reason}")
    assert run.stderr.count("\n") == 1
    assert "s3cret" not in run.stderr
    assert "127.0.0.1:1/salon" not in run.stderr


def test_a_database_url_with_a_port_out_of_range_is_one_line(tmp_path: Path, pycache: Path) -> None:
    env = _env("postgresql://salon:s3cret@127.0.0.1:99999/salon", tmp_path / "data", pycache)

    run = _salonbot(env, "migrate")

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.startswith("salonbot: cannot use the database at DATABASE_URL: ")
    assert run.stderr.count("\n") == 1
    assert "s3cret" not in run.stderr


def _postgres_serving(pgdata: Path) -> list[int]:
    """The pids of Postgres servers running on ``pgdata``, found as pgserver finds them."""
    import psutil  # pgserver's own dependency

    return [
        process.pid
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and str(pgdata) in (process.info["cmdline"] or [])
    ]


# pgserver asks platformdirs for a runtime dir, which warns where XDG_RUNTIME_DIR is unset.
_RUNTIME_DIR_WARNING = re.compile(r"^.*RuntimeDirWarning: .*\n  return .*\n", re.MULTILINE)


def _errors(run: subprocess.CompletedProcess[str]) -> str:
    """What a run wrote to stderr besides that warning."""
    return _RUNTIME_DIR_WARNING.sub("", run.stderr)


def _pg_ctl_stop(pgdata: Path) -> None:
    spec = importlib.util.find_spec("pgserver")
    assert spec is not None
    assert spec.origin is not None
    pg_ctl = Path(spec.origin).parent / "pginstall" / "bin" / "pg_ctl"
    # Started by root, pgserver runs Postgres as its own system user "pgserver"; Postgres
    # refuses to be controlled by root.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(pg_ctl), "-D", str(pgdata), "-w", "stop"],
        user=user,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def embedded_pgdata(tmp_path: Path) -> Iterator[Path]:
    """Where the embedded server of ``SALONBOT_DATA_DIR=<tmp>/data`` keeps its data.

    Teardown stops a server the test left running, so a failure leaks no process.
    """
    pgdata = (tmp_path / "data").resolve() / "pgdata"
    yield pgdata
    if _postgres_serving(pgdata):
        _pg_ctl_stop(pgdata)


def test_without_database_url_the_embedded_server_keeps_the_data_between_runs(
    embedded_pgdata: Path, pycache: Path
) -> None:
    env = _env("", embedded_pgdata.parent, pycache)
    del env["DATABASE_URL"]
    tuesday = _next_tuesday()

    first = _salonbot_process(env, "catalog", "load", "examples/salon.yaml")
    stopped_between_runs = _postgres_serving(embedded_pgdata)
    again = _salonbot_process(env, "catalog", "load", "examples/salon.yaml")
    slots = _salonbot_process(
        env, "slots", "manicure", "--staff", "maria", "--from", str(tuesday), "--days", "1"
    )

    assert (embedded_pgdata / "PG_VERSION").exists()  # the embedded server, not a .env URL
    assert (first.returncode, _errors(first)) == (0, "")
    assert first.stdout.startswith("catalog loaded from examples/salon.yaml\n")
    assert stopped_between_runs == []
    # A new process, a restarted server, and the catalog the first run stored.
    assert (again.returncode, again.stdout, _errors(again)) == (
        0,
        "catalog unchanged (examples/salon.yaml)\n",
        "",
    )
    assert (slots.returncode, _errors(slots)) == (0, "")
    assert slots.stdout.splitlines()[0] == (
        f"Manicure with Maria, {tuesday} to {tuesday} (Europe/Berlin)"
    )
    assert "  09:00 (UTC" in slots.stdout
    # The last salonbot process to exit stopped the server.
    assert _postgres_serving(embedded_pgdata) == []


def test_a_catalog_file_that_is_not_text_is_a_clear_error(loaded: Loaded, tmp_path: Path) -> None:
    binary = tmp_path / "salon.yaml"
    binary.write_bytes(b"\xff\xfe\x00salon")

    run = _salonbot(loaded.env, "catalog", "load", str(binary))

    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == f"salonbot: cannot read {binary}: not UTF-8 text\n"


def test_chat_with_nothing_configured_loads_the_demo_and_books_a_visit(
    embedded_pgdata: Path, pycache: Path
) -> None:
    env = _env("", embedded_pgdata.parent, pycache)
    del env["DATABASE_URL"]
    for name in ("LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    env["LANG"] = "C.UTF-8"
    # Book, Nails, Manicure, Maria, the third open day, its first time, Confirm; My bookings.
    first = _salonbot_process(env, "chat", typed="1\n2\n1\n2\n3\n1\n1\n2\n/quit\n")
    # A new process, the same chat. A platform's language code counts on first contact
    # only: after that the customer's own choice (here: never changed) stays.
    again = _salonbot_process(env, "chat", "--language", "ru", typed="2\n")

    hint = "Type the number of a choice, any text, or a /command; /quit or Ctrl-D to leave.\n"
    assert (first.returncode, _errors(first)) == (0, hint)
    assert first.stdout.startswith("No salon was loaded yet: loaded the demo salon")
    assert "Hello! Welcome to Studio Lumen." in first.stdout
    assert "Booked! See you soon." in first.stdout
    assert "Your upcoming visits:" in first.stdout
    assert (again.returncode, _errors(again)) == (0, hint)
    assert "No salon was loaded yet" not in again.stdout
    assert "Your upcoming visits:" in again.stdout
    assert _postgres_serving(embedded_pgdata) == []


def test_chat_on_a_configured_database_without_a_catalog_says_so_and_loads_nothing(
    empty_env: tuple[Env, str],
) -> None:
    env, url = empty_env

    run = _salonbot(env, "chat", typed="1\n")

    assert run.returncode == 1
    assert _errors(run) == (
        "salonbot: no catalog is loaded yet: run `salonbot catalog load FILE`\n"
    )
    assert _dump(url)["salon_catalog"] == []


# In-process from here: none of these reaches a database, so a subprocess would only add
# its start-up time to what is tested.

BEYOND_THE_LIMITS = [
    pytest.param(
        BILLION_LAUGHS,
        "(file): line 6, column 8: more than 100000 values; too large for a catalog "
        "(an alias counts as all it repeats)",
        id="billion laughs",
    ),
    pytest.param(
        "salon: " + "[" * 1000 + "]" * 1000 + "\n",
        "(file): line 1, column 27: lists and mappings nested more than 20 levels deep; "
        "a catalog needs 8",
        id="nested 1,000 levels deep",
    ),
    pytest.param(
        DEMO_TEXT + "#" * 9_000_000,
        "(file): more than 1000000 bytes: too large; a catalog file may have at most 1000000 bytes",
        id="9 MB",
    ),
    pytest.param(
        DEMO_TEXT.replace("- date: 2026-12-24", "- date: 9999-12-31", 1),
        "staff[0].exceptions[0].date: '9999-12-31': expected a date from 2000-01-01 to 2099-12-31",
        id="an exception on 9999-12-31",
    ),
    pytest.param(
        DEMO_TEXT.replace("- date: 2026-12-24", "- date: 0001-01-01", 1),
        "staff[0].exceptions[0].date: '0001-01-01': expected a date from 2000-01-01 to 2099-12-31",
        id="an exception on 0001-01-01",
    ),
]


@pytest.mark.parametrize(("text", "problem"), BEYOND_THE_LIMITS)
def test_catalog_check_of_a_file_beyond_the_limits_is_one_line_and_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    problem: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nobody@nowhere/salon")  # never used
    broken = tmp_path / "salon.yaml"
    broken.write_text(text, encoding="utf-8")

    status = cli.run(["catalog", "check", str(broken)])

    assert (status, *capsys.readouterr()) == (
        1,
        "",
        f"salonbot: {broken}: invalid catalog: {problem}\n",
    )


@pytest.mark.parametrize(("text", "problem"), BEYOND_THE_LIMITS)
def test_catalog_load_of_a_file_beyond_the_limits_is_one_line_and_applies_nothing(
    loaded: Loaded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    problem: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", loaded.url)
    monkeypatch.setenv("SALONBOT_DATA_DIR", loaded.env["SALONBOT_DATA_DIR"])
    broken = tmp_path / "salon.yaml"
    broken.write_text(text, encoding="utf-8")
    before = _dump(loaded.url)

    status = cli.run(["catalog", "load", str(broken)])

    assert (status, *capsys.readouterr()) == (
        1,
        "",
        f"salonbot: {broken}: invalid catalog: {problem}\n",
    )
    assert _dump(loaded.url) == before


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("--from", "9999-12-31"),
            "argument --from: '9999-12-31' is more than 1096 days from today",
        ),
        (
            ("--from", "0001-01-01"),
            "argument --from: '0001-01-01' is more than 1096 days from today",
        ),
        (
            ("--days", "10000000"),
            "argument --days: at most 1096 (the longest booking horizon a salon may set)",
        ),
        (
            ("--days", "1097"),
            "argument --days: at most 1096 (the longest booking horizon a salon may set)",
        ),
        (("--days", "9" * 5000), f"argument --days: '{'9' * 40}' is not a number of days"),
    ],
    ids=["from 9999-12-31", "from 0001-01-01", "10,000,000 days", "1097 days", "5000 digits"],
)
def test_slots_beyond_the_calendar_is_one_usage_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.run(["slots", "manicure", *args])

    out, err = capsys.readouterr()
    assert (exit_.value.code, out) == (2, "")
    assert err.splitlines()[-1] == f"salonbot slots: error: {error}"
    assert "Traceback" not in err


def test_slots_for_the_longest_span_are_printed(loaded: Loaded) -> None:
    today = datetime.now(BERLIN).date()
    far = today + timedelta(days=1000)

    run = _salonbot(loaded.env, "slots", "manicure", "--from", str(far), "--days", "1096")

    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines()[0] == (
        f"Manicure with any staff, {far} to {far + timedelta(days=1095)} (Europe/Berlin)"
    )
