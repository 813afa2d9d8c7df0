"""A TCP link to a real server that a test can cut and restore: a database outage as the
application sees it (open connections break, new ones are refused) without touching the
server, which other tests share. It can also freeze the open connections: they stay open
and carry nothing more, as after a failover or a network drop without a reset, while new
connections work."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class CuttableLink:
    """Listens on a local port and forwards every connection to ``host:port``, or to the
    Unix socket ``host`` names when it is a path (an embedded Postgres listens only there)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._flowing: set[asyncio.Event] = set()
        self.port = 0

    async def __aenter__(self) -> Self:
        await self.restore()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.cut()

    async def restore(self) -> None:
        """Take connections again (on the same port after a cut)."""
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._flowing.clear()
        for pipe in list(self._pipes):
            pipe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._pipes, return_exceptions=True)

    def freeze(self) -> None:
        """From now on, the open connections forward nothing (and are not closed); new
        connections are not affected."""
        for flowing in self._flowing:
            flowing.clear()
        self._flowing.clear()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            host, port = self._target
            if host.startswith("/"):
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(host)
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        flowing = asyncio.Event()
        flowing.set()
        self._flowing.add(flowing)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pipe = asyncio.create_task(_pipe(source, sink, flowing))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)


async def _pipe(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    try:
        while data := await source.read(65536):
            await flowing.wait()  # frozen: held here until the link is cut
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.transport.abort()


def link_target(database_url: str) -> tuple[str, int]:
    """Where a link to ``database_url``'s server forwards to: its host and port, or the
    Unix socket named in the query's ``host`` (an embedded server listens only there)."""
    parts = urlsplit(database_url)
    port = parts.port or 5432
    socket_dir = dict(parse_qsl(parts.query)).get("host", "")
    if socket_dir.startswith("/"):
        return f"{socket_dir}/.s.PGSQL.{port}", port
    return parts.hostname or "127.0.0.1", port


def through(database_url: str, link: CuttableLink) -> str:
    """The database's URL over the link (TCP to the link, whatever the server listens on)."""
    parts = urlsplit(database_url)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{link.port}"
    if parts.password:
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{link.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
