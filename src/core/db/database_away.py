"""Telling a database that is away from a statement that failed."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def database_away(error: BaseException) -> bool:
    """The database, not the work, failed: no connection, or the connection broke. Such
    work succeeds when tried again later; other errors fail the same way again."""
    if isinstance(error, OSError | TimeoutError | InterfaceError | OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
