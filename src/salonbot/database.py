"""Where the database is: ``DATABASE_URL``, or an embedded Postgres started on demand.

The embedded server is PyPI ``pgserver`` (real Postgres binaries in a wheel). Its data lives
in ``<data dir>/pgdata`` and is reused across runs; the server listens on a Unix socket only
and stops when the last salonbot process using it exits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from salonbot.config import Settings

EMBEDDED_DATABASE = "salonbot"


@dataclass(frozen=True, slots=True)
class DatabaseLocation:
    """A Postgres URL (``postgresql://`` form) and, when embedded, the server keeping it up."""

    url: str
    server: Any = None


def asyncpg_url(url: str) -> str:
    """SQLAlchemy's asyncpg form of a ``postgresql://`` URL.

    libpq's ``sslmode`` becomes asyncpg's ``ssl`` (same values: disable, allow, prefer,
    require, verify-ca, verify-full); an explicit ``ssl`` wins over it. Every other query
    parameter is kept as written, ``host=/socket/dir`` included.
    """
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        url = f"postgresql+asyncpg://{rest}"
    return _ssl_for_asyncpg(url)


def _ssl_for_asyncpg(url: str) -> str:
    # SQLAlchemy hands query parameters to asyncpg.connect() as keywords, and connect()
    # has no ``sslmode`` keyword. Edited as text so the other parameters stay byte for byte.
    base, mark, query = url.partition("?")
    params = query.split("&") if mark else []
    names = [param.partition("=")[0] for param in params]
    if "sslmode" not in names:
        return url
    kept = []
    for param, name in zip(params, names, strict=True):
        if name != "sslmode":
            kept.append(param)
        elif "ssl" not in names:
            kept.append("ssl" + param.removeprefix("sslmode"))
    return f"{base}?{'&'.join(kept)}"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class NoEmbeddedServer(Exception):
    """``DATABASE_URL`` is unset and this install has no embedded Postgres (the container
    image leaves ``pgserver`` out: its database is the ``postgres`` service)."""

    def __str__(self) -> str:
        return "DATABASE_URL: required here (this install has no embedded Postgres)"


def start_embedded(data_dir: Path) -> DatabaseLocation:
    """Start (or join) the embedded server and make sure the salonbot database exists."""
    try:
        import pgserver  # imported here: starting binaries is only for the embedded case
    except ImportError:
        raise NoEmbeddedServer() from None

    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime dir; on servers without XDG_RUNTIME_DIR
        # it falls back to /tmp and warns on every run, which is only noise here.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        server = pgserver.get_server(  # type: ignore[attr-defined]
            data_dir.resolve() / "pgdata", cleanup_mode="stop"
        )
    # EMBEDDED_DATABASE is a constant identifier, not input.
    query = f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"  # noqa: S608
    exists = server.psql(query)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return DatabaseLocation(with_database(server.get_uri(), EMBEDDED_DATABASE), server)


def locate(settings: Settings) -> DatabaseLocation:
    if settings.database_url:
        return DatabaseLocation(settings.database_url)
    return start_embedded(settings.data_dir)


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How long one database call may take before salonbot gives up on its connection.

    A connection that dies without a reset (a failover, a dropped link) never answers, and
    asyncpg sets no TCP keepalive of its own (``asyncpg.connect`` has no option for one):
    without a limit the call awaits forever and holds its part of salonbot with it.
    ``command`` (asyncpg's ``command_timeout``) bounds every call on the client, a hung
    connection included; the server's own limits end a statement or an open transaction
    nobody drives any more, and its keepalives let it drop a client that is gone (with
    its locks). Values are seconds.
    """

    command: float = 30.0
    statement: float = 20.0
    # Long: the outbox dispatcher keeps its transaction open across a send (up to a minute
    # with Telegram's client); this only ends one that a vanished client left open.
    idle_in_transaction: float = 300.0
    keepalive_idle: int = 30
    keepalive_interval: int = 10
    keepalive_count: int = 3

    def server_settings(self) -> dict[str, str]:
        return {
            "statement_timeout": f"{round(self.statement * 1000)}ms",
            "idle_in_transaction_session_timeout": f"{round(self.idle_in_transaction * 1000)}ms",
            # Ignored (read as 0) on a Unix socket, as the embedded server uses.
            "tcp_keepalives_idle": str(self.keepalive_idle),
            "tcp_keepalives_interval": str(self.keepalive_interval),
            "tcp_keepalives_count": str(self.keepalive_count),
        }


# For the long-running process (``salonbot serve``): every request-path and background
# query there is short. Not for migrations (Alembic builds its own engine) nor for one-off
# commands such as a catalog load, which may take longer and are watched by a person.
SERVING_LIMITS = TimeLimits()


def make_engine(url: str, *, pool_size: int = 10, limits: TimeLimits | None = None) -> AsyncEngine:
    """An engine on ``url``; with ``limits``, every call on its connections is bounded."""
    # A server that takes connections but never answers must not hold a request for
    # asyncpg's default minute.
    connect_args: dict[str, Any] = {"timeout": 10}
    if limits is not None:
        connect_args["command_timeout"] = limits.command
        connect_args["server_settings"] = limits.server_settings()
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )
