"""Telling a database that is away from a statement that failed."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes that blame the statement or its data, not the database: the same work
# fails the same way however often it is tried (22 data exception, 23 integrity constraint
# violation, 42 syntax error or access rule violation, 54 program limit exceeded, which is
# also what a NUL in text gives).
_THE_WORKS_FAULT = frozenset({"22", "23", "42", "54"})


def database_away(error: BaseException) -> bool:
    """The database, not the work, failed: no connection, a broken one, a pool with none to
    spare, a server starting up or shutting down, a statement cancelled by a time limit, a
    deadlock. Such work succeeds when tried again later.

    Only what certainly blames the work is not "away": an error raised before reaching the
    database (a Python ``ValueError``, say) or a SQLSTATE of the classes above. When in
    doubt it is "away", so a caller retries instead of giving up on a customer's message.
    """
    if isinstance(error, OSError | TimeoutError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    return not (isinstance(sqlstate, str) and sqlstate[:2] in _THE_WORKS_FAULT)
