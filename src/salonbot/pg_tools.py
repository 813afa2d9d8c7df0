"""Postgres's own client programs (``pg_dump``, ``pg_restore``, ``psql``): which one to
run for a server, and how to tell it where the database is without a password on any
command line.

A ``pg_dump`` refuses a server newer than itself, and an archive can only be read by a
``pg_restore`` at least as new as the ``pg_dump`` that wrote it. So for a server of major
version N salonbot runs the *oldest* program of major N or newer that it finds: the
archive it writes stays readable by the server's own tools. Where it looks: the one on
``PATH`` first (of two of one version, it wins), then the embedded server's wheel
(``pgserver`` ships its own programs), then the usual install places (Debian's
``/usr/lib/postgresql/N/bin``, the PGDG RPMs' ``/usr/pgsql-N/bin``, Homebrew's
``postgresql@N``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")

# libpq's connection parameters that a URL may carry in its query, and the environment
# variable libpq reads each from. asyncpg's ``ssl`` is libpq's ``sslmode``.
_QUERY_TO_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE",
    "ssl": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
}
# Where packagers put each major version's programs (a glob per place).
_INSTALL_PLACES = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)


class PgToolError(Exception):
    """A Postgres program could not be found or failed: one line for the user."""


@dataclass(frozen=True, slots=True)
class PgTool:
    """One of Postgres's programs, and the major version it belongs to."""

    path: Path
    major: int

    def sibling(self, name: str) -> PgTool:
        """The program ``name`` from the same installation (the same major version)."""
        path = self.path.with_name(name)
        if not path.is_file():
            raise PgToolError(f"{name} is missing beside {self.path}")
        return PgTool(path, self.major)


def major_version(text: str) -> int | None:
    """The major version in a program's ``--version`` line or a server's version string
    (``pg_dump (PostgreSQL) 15.20 (Debian ...)`` -> 15; ``9.6.24`` -> 9)."""
    found = _VERSION.search(text) or re.match(r"\s*(\d+)(?:\.(\d+))?", text)
    if found is None:
        return None
    return int(found.group(1))


def _embedded_bin() -> Path | None:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def candidate_paths(name: str) -> list[Path]:
    """Every ``name`` salonbot could run, each once: ``PATH``'s (so among programs of one
    version, the one on ``PATH`` is run), the embedded server's, then the usual install
    places'."""
    found: list[Path] = []
    on_path = shutil.which(name)
    if on_path is not None:
        found.append(Path(on_path))
    embedded = _embedded_bin()
    if embedded is not None:
        found.append(embedded / name)
    for place in _INSTALL_PLACES:
        root = Path("/")
        found += sorted(root.glob(place.lstrip("/") + "/" + name))
    unique: dict[Path, Path] = {}
    for path in found:
        real = path.resolve()
        # Debian's /usr/bin/pg_dump is ``pg_wrapper``, which picks a version by its own
        # rules when run; the programs it picks from are in /usr/lib/postgresql/N/bin.
        if path.is_file() and real.name != "pg_wrapper":
            unique.setdefault(real, path)
    return list(unique.values())


def probe(paths: Iterable[Path]) -> list[PgTool]:
    """The programs among ``paths`` that run and say their version."""
    tools = []
    for path in paths:
        try:
            said = subprocess.run(  # noqa: S603 (a Postgres program found on this machine)
                [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        major = major_version(said.stdout)
        if said.returncode == 0 and major is not None:
            tools.append(PgTool(path, major))
    return tools


def choose(name: str, at_least: int, tools: Iterable[PgTool]) -> PgTool:
    """The oldest of ``tools`` whose major version is ``at_least`` or newer (the first found
    of that version); ``PgToolError`` naming what was found when none is."""
    tools = list(tools)
    fitting = [tool for tool in tools if tool.major >= at_least]
    if fitting:
        return min(fitting, key=lambda tool: tool.major)
    seen = ", ".join(f"{tool.major} ({tool.path})" for tool in tools) or "none"
    raise PgToolError(
        f"no {name} of PostgreSQL {at_least} or newer was found (found: {seen}); install"
        f" PostgreSQL {at_least}'s client programs (Debian: apt-get install"
        f" postgresql-client-{at_least}) and run again"
    )


def find(name: str, at_least: int) -> PgTool:
    """The ``name`` to run for a server (or an archive) of major version ``at_least``."""
    return choose(name, at_least, probe(candidate_paths(name)))


def newest(name: str) -> PgTool:
    """The newest ``name`` found (it reads every older archive)."""
    tools = probe(candidate_paths(name))
    if not tools:
        raise PgToolError(f"no {name} was found: install PostgreSQL's client programs")
    return max(tools, key=lambda tool: tool.major)


def libpq_environment(url: str) -> dict[str, str]:
    """The ``PG*`` environment variables that point libpq's programs at ``url``'s database.

    The password travels in ``PGPASSWORD`` of the child's environment, never on a command
    line (where any user of the machine could read it). Query parameters that libpq does
    not know (asyncpg's own) are left out.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise PgToolError("the database URL is not a postgresql:// URL")
    env: dict[str, str] = {}
    if parts.hostname:
        env["PGHOST"] = unquote(parts.hostname)
    try:
        port = parts.port
    except ValueError:
        raise PgToolError("the database URL's port is not a number from 1 to 65535") from None
    if port is not None:
        env["PGPORT"] = str(port)
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    database = unquote(parts.path.lstrip("/"))
    if database:
        env["PGDATABASE"] = database
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        variable = _QUERY_TO_ENV.get(key)
        if variable is not None and value:
            # asyncpg's ``ssl=true`` is libpq's ``require``.
            env[variable] = "require" if key == "ssl" and value.lower() == "true" else value
    return env


def without_secrets(text: str, env: Mapping[str, str]) -> str:
    """``text`` (a program's error output) with the password blanked, should it quote it."""
    password = env.get("PGPASSWORD")
    return text.replace(password, "***") if password else text
