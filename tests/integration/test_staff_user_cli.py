"""``salonbot staff-user``: the owner adds, lists, removes staff web users and resets their
passwords from the command line; the password is never printed, nor its hash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.calendar.ports import LoginRefused, Role
from core.services.staff_accounts import StaffAccounts
from salonbot.bootstrap import Salonbot
from salonbot.passwords import Argon2Passwords
from tests.cli_run import cli_environment
from tests.cli_run import salonbot as run_in_process
from tests.db_state import dump_tables, rows
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
Run = tuple[int, str, str]


class Cli:
    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self._url = database_url
        self._data = tmp_path / "data"
        self.printed: list[str] = []

    async def __call__(self, *args: str, typed: str = "") -> Run:
        # The command runs its own event loop (asyncio.run), so not on this one.
        env = cli_environment(self._url, self._data)
        run = await asyncio.to_thread(run_in_process, env, *args, typed=typed)
        self.printed += run[1:]
        return run


@pytest.fixture
def salonbot(app: Salonbot, database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)


async def test_staff_users_are_added_listed_reset_and_removed_from_the_command_line(
    app: Salonbot, clock: FakeClock, salonbot: Cli
) -> None:
    assert await salonbot("staff-user", "list") == (
        0,
        "no staff users yet (add one: salonbot staff-user add EMAIL --role owner)\n",
        "",
    )
    owner = await salonbot(
        "staff-user", "add", "Boss@Salon.example", "--role", "owner", "--password-stdin",
        typed=f"{PASSWORD}\n",
    )  # fmt: skip
    staff = await salonbot(
        "staff-user", "add", "maria@salon.example", "--role", "staff", "--staff", "maria",
        "--language", "ru", "--password-stdin", typed=f"{PASSWORD}\r\n",
    )  # fmt: skip

    assert owner == (0, "staff user added: boss@salon.example (owner, en)\n", "")
    assert staff == (0, "staff user added: maria@salon.example (staff, staff maria, ru)\n", "")
    assert await salonbot("staff-user", "list") == (
        0,
        "boss@salon.example  owner  -  en\nmaria@salon.example  staff  maria  ru\n",
        "",
    )
    accounts = StaffAccounts(app.uow, clock, Argon2Passwords())
    signed_in = await accounts.sign_in("maria@salon.example", PASSWORD, "127.0.0.1")
    assert signed_in.user.staff_key == "maria"

    reset = await salonbot(
        "staff-user", "reset-password", "MARIA@salon.example", "--password-stdin",
        typed="a brand new password\n",
    )  # fmt: skip

    assert reset == (0, "password reset for maria@salon.example; 1 session ended\n", "")
    assert await accounts.session(signed_in.token) is None
    with pytest.raises(LoginRefused):
        await accounts.sign_in("maria@salon.example", PASSWORD, "127.0.0.1")
    assert await accounts.sign_in("maria@salon.example", "a brand new password", "127.0.0.1")

    removed = await salonbot("staff-user", "remove", "maria@salon.example")

    assert removed == (0, "staff user removed: maria@salon.example (signed out everywhere)\n", "")
    assert await rows(app.engine, "SELECT email, role FROM staff_users") == [
        ("boss@salon.example", "owner")
    ]
    assert await rows(app.engine, "SELECT count(*) FROM staff_sessions") == [(0,)]
    printed = "".join(salonbot.printed)
    assert PASSWORD not in printed
    assert "brand new" not in printed
    assert "$argon2" not in printed


@pytest.mark.parametrize(
    ("args", "typed", "error"),
    [
        (
            ("--role", "staff"),
            PASSWORD,
            "salonbot: a staff user needs --staff STAFF_ID (their id in the catalog)\n",
        ),
        (
            ("--role", "staff", "--staff", "nobody"),
            PASSWORD,
            "salonbot: no staff member 'nobody' in the catalog\n",
        ),
        (
            ("--role", "owner"),
            "too short\n",
            "salonbot: a password needs at least 10 characters (at most 1024)\n",
        ),
        (
            ("--role", "owner"),
            "",
            "salonbot: a password needs at least 10 characters (at most 1024)\n",
        ),
        (
            ("--role", "owner", "--language", "xx"),
            PASSWORD,
            "salonbot: no language 'xx' (one of: en, ru)\n",
        ),
    ],
    ids=[
        "a staff role without --staff",
        "an unknown staff member",
        "a short password",
        "nothing on standard input",
        "a language without a catalog",
    ],
)
async def test_a_refused_staff_user_exits_1_with_the_reason_and_stores_nothing(
    app: Salonbot, salonbot: Cli, args: tuple[str, ...], typed: str, error: str
) -> None:
    before = await dump_tables(app.engine)

    run = await salonbot(
        "staff-user", "add", "anna@salon.example", *args, "--password-stdin", typed=typed
    )

    assert run == (1, "", error)
    assert await dump_tables(app.engine) == before


async def test_removing_an_unknown_staff_user_exits_1(salonbot: Cli) -> None:
    assert await salonbot("staff-user", "remove", "nobody@salon.example") == (
        1,
        "",
        "salonbot: no staff user 'nobody@salon.example' (see `salonbot staff-user list`)\n",
    )


async def test_without_password_stdin_the_password_is_asked_twice_without_echo(
    app: Salonbot, salonbot: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "something else"])

    def getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", getpass)

    added = await salonbot("staff-user", "add", "boss@salon.example", "--role", "owner")
    differ = await salonbot("staff-user", "reset-password", "boss@salon.example")

    assert added == (0, "staff user added: boss@salon.example (owner, en)\n", "")
    assert differ == (1, "", "salonbot: the two passwords differ; nothing changed\n")
    assert prompts == ["Password: ", "Password again: "] * 2
    assert await rows(app.engine, "SELECT role FROM staff_users") == [("owner",)]


async def test_a_role_other_than_owner_or_staff_is_a_usage_error(salonbot: Cli) -> None:
    code, out, err = await salonbot(
        "staff-user", "add", "boss@salon.example", "--role", "admin", "--password-stdin"
    )

    assert (code, out) == (2, "")
    assert "invalid choice: 'admin'" in err
    assert Role.OWNER.value in err
