"""Staff web accounts on real Postgres: adding users, signing in, lockout, throttling by
address, and sessions that slide and end."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from core.calendar.ports import LoginRefused, Role, SignedIn, StaffUser
from core.domain.errors import UnknownStaff
from core.services.staff_accounts import (
    AccountError,
    InvalidEmail,
    StaffAccounts,
    StaffRoleNeedsStaff,
    StaffUserExists,
    UnknownStaffUser,
    UnsupportedLanguage,
    WeakPassword,
)
from salonbot.bootstrap import Salonbot
from salonbot.passwords import Argon2Passwords
from tests.db_state import dump_tables, rows
from tests.fakes.clock import FakeClock

PASSWORD = "correct horse battery"
ADDRESS = "203.0.113.9"


class CountingPasswords(Argon2Passwords):
    """Real argon2 with cheap parameters (fast tests), counting the checks it makes."""

    def __init__(self, *, time_cost: int = 1, memory_cost: int = 1024) -> None:
        super().__init__(time_cost=time_cost, memory_cost=memory_cost)
        self.verified = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return super().verify(password_hash, password)


@pytest.fixture
def hasher() -> CountingPasswords:
    return CountingPasswords()


@pytest.fixture
def accounts(app: Salonbot, clock: FakeClock, hasher: CountingPasswords) -> StaffAccounts:
    return StaffAccounts(app.uow, clock, hasher)


@pytest.fixture
async def maria(accounts: StaffAccounts) -> StaffUser:
    return await accounts.add("Maria@Salon.example", PASSWORD, Role.STAFF, "maria", "ru")


async def _users(app: Salonbot) -> list[tuple[object, ...]]:
    return await rows(
        app.engine, "SELECT email, role, staff_id, language FROM staff_users ORDER BY email"
    )


async def _refusal(accounts: StaffAccounts, email: str, password: str) -> LoginRefused:
    with pytest.raises(LoginRefused) as refused:
        await accounts.sign_in(email, password, ADDRESS)
    return refused.value


async def test_an_owner_and_a_staff_member_are_added_and_listed_by_email(
    app: Salonbot, accounts: StaffAccounts, maria: StaffUser
) -> None:
    owner = await accounts.add("boss@salon.example", PASSWORD, Role.OWNER)

    assert maria == StaffUser(maria.id, "maria@salon.example", Role.STAFF, "maria", "ru")
    assert owner == StaffUser(owner.id, "boss@salon.example", Role.OWNER, None, "en")
    assert await accounts.users() == [owner, maria]


async def test_only_an_argon2_hash_of_the_password_is_stored(
    app: Salonbot, maria: StaffUser
) -> None:
    [(stored,)] = await rows(app.engine, "SELECT password_hash FROM staff_users")

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in repr(await dump_tables(app.engine))


async def test_the_same_email_in_other_letter_case_is_refused_as_existing(
    app: Salonbot, accounts: StaffAccounts, maria: StaffUser
) -> None:
    with pytest.raises(StaffUserExists):
        await accounts.add(" MARIA@salon.EXAMPLE ", "another password", Role.OWNER)

    assert len(await _users(app)) == 1


@pytest.mark.parametrize(
    ("email", "password", "role", "staff_key", "language", "error"),
    [
        ("anna@salon.example", PASSWORD, Role.STAFF, None, "en", StaffRoleNeedsStaff),
        ("anna@salon.example", PASSWORD, Role.STAFF, "nobody", "en", UnknownStaff),
        ("anna@salon.example", PASSWORD, Role.OWNER, "nobody", "en", UnknownStaff),
        ("anna@salon.example", "nine char", Role.OWNER, None, "en", WeakPassword),
        ("anna@salon.example", "x" * 1025, Role.OWNER, None, "en", WeakPassword),
        ("anna@salon.example", PASSWORD, Role.OWNER, None, "xx", UnsupportedLanguage),
        ("anna", PASSWORD, Role.OWNER, None, "en", InvalidEmail),
        ("an na@salon.example", PASSWORD, Role.OWNER, None, "en", InvalidEmail),
        ("анна@salon.example", PASSWORD, Role.OWNER, None, "en", InvalidEmail),
        ("a" * 250 + "@s.ex", PASSWORD, Role.OWNER, None, "en", InvalidEmail),
    ],
    ids=[
        "a staff role without a staff member",
        "an unknown staff member",
        "an owner with an unknown staff member",
        "a password of nine characters",
        "a password of 1025 characters",
        "a language without a catalog",
        "an email without a domain",
        "an email with a space",
        "an email with non-ASCII letters",
        "an email longer than 254 characters",
    ],
)
async def test_a_bad_new_user_is_refused_and_nothing_is_stored(
    app: Salonbot,
    accounts: StaffAccounts,
    email: str,
    password: str,
    role: Role,
    staff_key: str | None,
    language: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await accounts.add(email, password, role, staff_key, language)

    assert await _users(app) == []


async def test_the_right_password_opens_a_session_kept_only_as_the_tokens_digest(
    app: Salonbot, accounts: StaffAccounts, clock: FakeClock, maria: StaffUser
) -> None:
    signed_in = await accounts.sign_in("MARIA@salon.example", PASSWORD, ADDRESS)

    assert signed_in.user == maria
    assert signed_in.expires_at == clock.now() + timedelta(hours=12)
    assert await accounts.session(signed_in.token) == signed_in
    digest = hashlib.sha256(signed_in.token.encode()).hexdigest()
    assert await rows(app.engine, "SELECT token_digest FROM staff_sessions") == [(digest,)]
    assert signed_in.token not in repr(await dump_tables(app.engine))
    assert signed_in.csrf != signed_in.token


async def test_a_wrong_password_and_an_unknown_email_are_refused_alike_after_the_same_work(
    app: Salonbot, accounts: StaffAccounts, hasher: CountingPasswords, maria: StaffUser
) -> None:
    wrong_password = await _refusal(accounts, "maria@salon.example", "wrong password")
    assert hasher.verified == 1
    unknown_email = await _refusal(accounts, "nobody@salon.example", PASSWORD)

    assert hasher.verified == 2
    assert (str(wrong_password), wrong_password.locked_until) == ("login refused", None)
    assert (str(unknown_email), unknown_email.locked_until) == ("login refused", None)
    assert await rows(app.engine, "SELECT failed_logins FROM staff_users") == [(1,)]
    assert await rows(app.engine, "SELECT count(*) FROM staff_sessions") == [(0,)]


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes_and_say_nothing(
    app: Salonbot, accounts: StaffAccounts, clock: FakeClock, maria: StaffUser
) -> None:
    for _ in range(5):
        assert (await _refusal(accounts, maria.email, "wrong password")).locked_until is None
        clock.advance(timedelta(seconds=30))
    [(locked_until,)] = await rows(app.engine, "SELECT locked_until FROM staff_users")
    assert locked_until == clock.now() - timedelta(seconds=30) + timedelta(minutes=15)

    # While locked, even the right password is refused, and reads like a wrong one: the
    # answer never tells a stranger that this email has an account.
    assert (await _refusal(accounts, maria.email, PASSWORD)).locked_until is None
    clock.set(locked_until - timedelta(seconds=1))
    assert (await _refusal(accounts, maria.email, PASSWORD)).locked_until is None
    clock.set(locked_until)
    assert (await accounts.sign_in(maria.email, PASSWORD, ADDRESS)).user == maria
    assert await rows(app.engine, "SELECT failed_logins, locked_until FROM staff_users") == [
        (0, None)
    ]


async def test_bursts_of_attempts_at_once_lock_as_one_by_one_and_all_read_alike(
    app: Salonbot, accounts: StaffAccounts, hasher: CountingPasswords, maria: StaffUser
) -> None:
    async def burst(guesses: list[str]) -> list[BaseException | SignedIn]:
        return await asyncio.gather(
            *(
                accounts.sign_in(maria.email, guess, f"192.0.2.{n}")
                for n, guess in enumerate(guesses)
            ),
            return_exceptions=True,
        )

    first = await burst([f"wrong password {n}" for n in range(12)])
    [(locked_until,)] = await rows(app.engine, "SELECT locked_until FROM staff_users")
    before = hasher.verified
    second = await burst([f"wrong password {n}" for n in range(12)] + [PASSWORD])

    # The attempts were taken one by one: the account locked after five, so the right
    # password in the second burst is refused, and every answer reads the same.
    assert locked_until is not None
    answers = first + second
    assert all(isinstance(a, LoginRefused) and a.locked_until is None for a in answers)
    # Every attempt did the same password work, locked or not.
    assert hasher.verified - before == 13


async def test_a_success_starts_the_count_of_wrong_passwords_again(
    accounts: StaffAccounts, maria: StaffUser
) -> None:
    for _ in range(4):
        await _refusal(accounts, maria.email, "wrong password")
    await accounts.sign_in(maria.email, PASSWORD, ADDRESS)
    for _ in range(4):
        await _refusal(accounts, maria.email, "wrong password")

    assert (await accounts.sign_in(maria.email, PASSWORD, ADDRESS)).user == maria


async def test_twenty_failures_from_one_address_in_fifteen_minutes_refuse_that_address(
    app: Salonbot, accounts: StaffAccounts, clock: FakeClock, maria: StaffUser
) -> None:
    first = clock.now()
    for attempt in range(20):
        # Many emails, never the same account five times: only the address stops this.
        await _refusal(accounts, f"guess{attempt}@salon.example", PASSWORD)
        clock.advance(timedelta(seconds=20))

    refused = await _refusal(accounts, maria.email, PASSWORD)

    assert refused.locked_until == first + timedelta(minutes=15)
    assert await rows(app.engine, "SELECT count(*) FROM login_failures") == [(20,)]
    other = await accounts.sign_in(maria.email, PASSWORD, "198.51.100.7")
    assert other.user == maria
    clock.set(first + timedelta(minutes=15))
    assert (await accounts.sign_in(maria.email, PASSWORD, ADDRESS)).user == maria


async def test_failures_older_than_the_window_are_pruned(
    app: Salonbot, accounts: StaffAccounts, clock: FakeClock
) -> None:
    for _ in range(3):
        await _refusal(accounts, "nobody@salon.example", PASSWORD)
    clock.advance(timedelta(minutes=15))

    await _refusal(accounts, "nobody@salon.example", PASSWORD)

    assert await rows(app.engine, "SELECT count(*) FROM login_failures") == [(1,)]


async def test_a_session_lasts_twelve_hours_from_its_last_use(
    accounts: StaffAccounts, clock: FakeClock, maria: StaffUser
) -> None:
    signed_in = await accounts.sign_in(maria.email, PASSWORD, ADDRESS)
    clock.advance(timedelta(hours=11))
    used = await accounts.session(signed_in.token)
    assert used is not None
    assert used.expires_at == clock.now() + timedelta(hours=12)
    clock.advance(timedelta(hours=11))
    assert await accounts.session(signed_in.token) is not None
    clock.advance(timedelta(hours=12))

    assert await accounts.session(signed_in.token) is None


async def test_a_session_ends_seven_days_after_sign_in_however_often_it_is_used(
    accounts: StaffAccounts, clock: FakeClock, maria: StaffUser
) -> None:
    signed_in = await accounts.sign_in(maria.email, PASSWORD, ADDRESS)
    week_later = clock.now() + timedelta(days=7)
    while clock.now() + timedelta(hours=6) < week_later:
        clock.advance(timedelta(hours=6))
        assert await accounts.session(signed_in.token) is not None
    clock.set(week_later - timedelta(minutes=1))
    last = await accounts.session(signed_in.token)
    assert last is not None
    assert last.expires_at == week_later
    clock.set(week_later)

    assert await accounts.session(signed_in.token) is None


async def test_signing_out_ends_the_session_and_only_that_one(
    accounts: StaffAccounts, maria: StaffUser
) -> None:
    phone = await accounts.sign_in(maria.email, PASSWORD, ADDRESS)
    desk = await accounts.sign_in(maria.email, PASSWORD, ADDRESS)

    await accounts.sign_out(phone.token)

    assert await accounts.session(phone.token) is None
    assert await accounts.session(desk.token) == desk


async def test_resetting_the_password_ends_every_session_and_lifts_a_lock(
    accounts: StaffAccounts, maria: StaffUser
) -> None:
    sessions = [await accounts.sign_in(maria.email, PASSWORD, ADDRESS) for _ in range(2)]
    for _ in range(5):
        await _refusal(accounts, maria.email, "wrong password")

    ended = await accounts.reset_password("MARIA@salon.example", "a brand new password")

    assert ended == 2
    assert [await accounts.session(s.token) for s in sessions] == [None, None]
    await _refusal(accounts, maria.email, PASSWORD)
    assert (await accounts.sign_in(maria.email, "a brand new password", ADDRESS)).user == maria


async def test_removing_a_user_ends_their_sessions(
    app: Salonbot, accounts: StaffAccounts, maria: StaffUser
) -> None:
    signed_in = await accounts.sign_in(maria.email, PASSWORD, ADDRESS)

    assert await accounts.remove(maria.email) == maria

    assert await accounts.session(signed_in.token) is None
    assert await _users(app) == []
    assert await rows(app.engine, "SELECT count(*) FROM staff_sessions") == [(0,)]


async def test_removing_or_resetting_an_unknown_user_is_refused(
    accounts: StaffAccounts, maria: StaffUser
) -> None:
    with pytest.raises(UnknownStaffUser):
        await accounts.remove("nobody@salon.example")
    with pytest.raises(UnknownStaffUser):
        await accounts.reset_password("nobody@salon.example", "a brand new password")
    with pytest.raises(AccountError):
        await accounts.reset_password(maria.email, "short")


async def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(
    app: Salonbot, clock: FakeClock, maria: StaffUser
) -> None:
    stronger = StaffAccounts(app.uow, clock, CountingPasswords(time_cost=2, memory_cost=2048))
    [(before,)] = await rows(app.engine, "SELECT password_hash FROM staff_users")

    await stronger.sign_in(maria.email, PASSWORD, ADDRESS)

    [(after,)] = await rows(app.engine, "SELECT password_hash FROM staff_users")
    assert "m=1024,t=1" in before
    assert "m=2048,t=2" in after
    assert (await stronger.sign_in(maria.email, PASSWORD, ADDRESS)).user == maria


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "x" * 10_000, "токен"],
    ids=["empty", "unknown", "ten thousand characters", "not ASCII"],
)
async def test_a_token_that_is_not_a_live_session_finds_none(
    accounts: StaffAccounts, maria: StaffUser, token: str
) -> None:
    await accounts.sign_in(maria.email, PASSWORD, ADDRESS)

    assert await accounts.session(token) is None
    await accounts.sign_out(token)  # nothing to end, no error


async def test_a_huge_password_or_email_is_refused_like_any_other(
    accounts: StaffAccounts, maria: StaffUser
) -> None:
    assert (await _refusal(accounts, maria.email, "x" * 1_000_000)).locked_until is None
    assert (await _refusal(accounts, "x" * 1_000_000, PASSWORD)).locked_until is None
