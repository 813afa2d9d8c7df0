"""The HTTP app served for real on a loopback port, as ``salonbot serve`` serves it, in the
caller's event loop (so a test's clock and database are the server's)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

import uvicorn
from fastapi import FastAPI

from salonbot.serve import _Server


@contextlib.asynccontextmanager
async def serving(
    web: FastAPI, end_streams: Callable[[], None] = lambda: None
) -> AsyncIterator[str]:
    """``web`` served by uvicorn on a free port of 127.0.0.1 until the block ends; its base
    URL. The socket is bound before the server starts, so no other process can take the
    port in between. ``end_streams`` ends the pages' live streams at the stop, as
    ``salonbot serve`` does (uvicorn waits for every response to end)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = _Server(
        uvicorn.Config(
            web,
            log_config=None,
            access_log=False,
            lifespan="on",
            # A response that does not end must not hold the test's end.
            timeout_graceful_shutdown=2,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # a server that failed to start says why
                    raise RuntimeError("the test server stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        end_streams()
        await task
        listener.close()
