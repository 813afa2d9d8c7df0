"""Staff users of the staff web, their sessions, and failed sign-ins by address."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar.ports import Role, StaffUser
from core.db.tables import login_failures, staff, staff_sessions, staff_users


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A staff user as stored, with what signing in needs."""

    user: StaffUser
    password_hash: str = field(repr=False)
    failed_logins: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSession:
    user: StaffUser
    csrf: str = field(repr=False)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


_USER_COLUMNS = (
    staff_users.c.id,
    staff_users.c.email,
    staff_users.c.role,
    staff.c.key.label("staff_key"),
    staff_users.c.language,
)
_WITH_STAFF = staff_users.outerjoin(staff, staff.c.id == staff_users.c.staff_id)


def _user(m: RowMapping) -> StaffUser:
    return StaffUser(int(m["id"]), m["email"], Role(m["role"]), m["staff_key"], m["language"])


class StaffUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self,
        email: str,
        password_hash: str,
        role: Role,
        staff_id: int | None,
        language: str,
        at: datetime,
    ) -> int:
        result = await self._db.execute(
            staff_users.insert()
            .values(
                email=email,
                password_hash=password_hash,
                role=role.value,
                staff_id=staff_id,
                language=language,
                created_at=at,
            )
            .returning(staff_users.c.id)
        )
        return int(result.scalar_one())

    async def by_email(self, email: str, *, for_update: bool = False) -> StoredUser | None:
        """The user stored under ``email`` (already lowercased), or None. ``for_update``
        locks the row, so concurrent failures count one by one."""
        query = (
            select(
                *_USER_COLUMNS,
                staff_users.c.password_hash,
                staff_users.c.failed_logins,
                staff_users.c.locked_until,
            )
            .select_from(_WITH_STAFF)
            .where(staff_users.c.email == email)
        )
        if for_update:
            query = query.with_for_update(of=staff_users)
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        return StoredUser(
            _user(row._mapping), row.password_hash, row.failed_logins, row.locked_until
        )

    async def all(self) -> list[StaffUser]:
        """Every staff user, by email."""
        rows = await self._db.execute(
            select(*_USER_COLUMNS).select_from(_WITH_STAFF).order_by(staff_users.c.email)
        )
        return [_user(row._mapping) for row in rows]

    async def remove(self, user_id: int) -> None:
        """The user and (by cascade) their sessions."""
        await self._db.execute(delete(staff_users).where(staff_users.c.id == user_id))

    async def set_password(self, user_id: int, password_hash: str) -> None:
        await self._db.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(password_hash=password_hash)
        )

    async def count_failure(
        self, user_id: int, locks_after: int, lock_until: datetime
    ) -> datetime | None:
        """One more failed sign-in; the ``locks_after``-th locks the account until
        ``lock_until`` and starts the count again. The lock's end, if this failure locked."""
        locks = staff_users.c.failed_logins + 1 >= locks_after
        result = await self._db.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(
                failed_logins=case((locks, 0), else_=staff_users.c.failed_logins + 1),
                locked_until=case((locks, lock_until), else_=staff_users.c.locked_until),
            )
            .returning(staff_users.c.failed_logins, staff_users.c.locked_until)
        )
        row = result.one()
        locked: datetime | None = row.locked_until
        return locked if row.failed_logins == 0 and locked == lock_until else None

    async def clear_failures(self, user_id: int) -> None:
        await self._db.execute(
            update(staff_users)
            .where(staff_users.c.id == user_id)
            .values(failed_logins=0, locked_until=None)
        )

    async def lock_address(self, address: str) -> None:
        """Serialize sign-in attempts from ``address`` for the rest of the transaction, so
        a burst of them is counted one by one."""
        key = func.hashtextextended(func.concat("sign-in:", address), 0)
        await self._db.execute(select(func.pg_advisory_xact_lock(key)))

    async def add_address_failure(self, address: str, at: datetime, keep: timedelta) -> None:
        """Record a failure from ``address``; failures older than ``keep`` (from anyone) go."""
        await self._db.execute(delete(login_failures).where(login_failures.c.at <= at - keep))
        await self._db.execute(login_failures.insert().values(address=address, at=at))

    async def address_failures_since(
        self, address: str, since: datetime, limit: int
    ) -> list[datetime]:
        """The newest failures from ``address`` after ``since`` (at most ``limit``), newest
        first."""
        rows = await self._db.execute(
            select(login_failures.c.at)
            .where(login_failures.c.address == address, login_failures.c.at > since)
            .order_by(login_failures.c.at.desc())
            .limit(limit)
        )
        return list(rows.scalars())

    async def add_session(
        self, token_digest: str, user_id: int, csrf: str, at: datetime, expires_at: datetime
    ) -> None:
        await self._db.execute(
            staff_sessions.insert().values(
                token_digest=token_digest,
                user_id=user_id,
                csrf=csrf,
                created_at=at,
                last_seen_at=at,
                expires_at=expires_at,
            )
        )

    async def session(self, token_digest: str, now: datetime) -> StoredSession | None:
        """The session of ``token_digest`` if it has not expired at ``now``."""
        row = (
            await self._db.execute(
                select(
                    *_USER_COLUMNS,
                    staff_sessions.c.csrf,
                    staff_sessions.c.created_at,
                    staff_sessions.c.last_seen_at,
                    staff_sessions.c.expires_at,
                )
                .select_from(
                    staff_sessions.join(_WITH_STAFF, staff_users.c.id == staff_sessions.c.user_id)
                )
                .where(staff_sessions.c.token_digest == token_digest)
                .where(staff_sessions.c.expires_at > now)
            )
        ).first()
        if row is None:
            return None
        return StoredSession(
            _user(row._mapping), row.csrf, row.created_at, row.last_seen_at, row.expires_at
        )

    async def touch_session(self, token_digest: str, at: datetime, expires_at: datetime) -> None:
        await self._db.execute(
            update(staff_sessions)
            .where(staff_sessions.c.token_digest == token_digest)
            .values(last_seen_at=at, expires_at=expires_at)
        )

    async def end_session(self, token_digest: str) -> None:
        await self._db.execute(
            delete(staff_sessions).where(staff_sessions.c.token_digest == token_digest)
        )

    async def end_sessions_of(self, user_id: int) -> int:
        result = await self._db.execute(
            delete(staff_sessions).where(staff_sessions.c.user_id == user_id)
        )
        return int(result.rowcount)

    async def end_expired_sessions(self, now: datetime) -> None:
        await self._db.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= now))

    async def staff_member(self, key: str) -> int | None:
        """The id of the active catalog staff member ``key``, or None."""
        found = await self._db.execute(select(staff.c.id).where(staff.c.key == key, staff.c.active))
        staff_id = found.scalar_one_or_none()
        return None if staff_id is None else int(staff_id)
