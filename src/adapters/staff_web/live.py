"""``GET /staff/live``: the calendar's changes as Server-Sent Events, for ``static/live.js``.

First a ``hello`` event (``data: {"heard": n}``: ``LiveChanges.heard`` once subscribed, for
the page to tell whether it missed a change while it opened), then one ``changed`` event
per change (``data: {"staff_key": ..., "days": [...]}``, both null:
reload everything), a comment every ``HEARTBEAT`` seconds so proxies keep the line open,
the session checked again every ``RECHECK`` seconds (the stream ends with it). At most
``MOST_STREAMS`` streams at once, ``MOST_STREAMS_PER_USER`` of one user (then 503), so one
account cannot take every other page's place. A stream ends when its subscription does: the
process stopping ends them all, so a graceful stop never waits on an open page.

An open calendar counts as use: each check slides the session's idle expiry, as a page
load does (its absolute limit still ends it).
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import Response, StreamingResponse

from adapters.staff_web.side import StaffSide
from core.calendar.desk import CalendarChange
from core.calendar.ports import SignedIn

HEARTBEAT = 15.0
RECHECK = 60.0
MOST_STREAMS = 200
MOST_STREAMS_PER_USER = 12  # a few tabs on a few devices; not all of the salon's room
RETRY_MS = 5_000  # how long a browser waits before it reconnects


def event_of(change: CalendarChange) -> str:
    days = None if change.days is None else [day.isoformat() for day in change.days]
    data = json.dumps({"staff_key": change.staff_key, "days": days})
    return f"event: changed\ndata: {data}\n\n"


class _Streams:
    def __init__(self) -> None:
        self.open = 0
        self.of_user: Counter[int] = Counter()

    def full(self, user_id: int) -> bool:
        return self.open >= MOST_STREAMS or self.of_user[user_id] >= MOST_STREAMS_PER_USER


def add_live_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type
    streams = _Streams()

    async def stream(signed: SignedIn) -> AsyncIterator[str]:
        user = signed.user.id
        if streams.full(user):
            return  # more came in since the route counted: this one tries again later
        streams.open += 1
        streams.of_user[user] += 1
        try:
            async with side.live.listen() as changes:
                # Read once subscribed: from here on every change reaches this stream.
                hello = json.dumps({"heard": side.live.heard()})
                yield f"retry: {RETRY_MS}\n: live\nevent: hello\ndata: {hello}\n\n"
                async for chunk in _chunks(side, signed, changes):
                    yield chunk
        finally:
            streams.open -= 1
            streams.of_user[user] -= 1
            if streams.of_user[user] <= 0:
                del streams.of_user[user]

    @router.get("/live")
    async def live(signed: Session) -> Response:
        """The calendar's changes as they are committed (``text/event-stream``)."""
        if streams.full(signed.user.id):
            return Response("Too many live pages are open.", 503, headers={"Retry-After": "60"})
        return StreamingResponse(
            stream(signed),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )


async def _chunks(
    side: StaffSide, signed: SignedIn, changes: AsyncIterator[CalendarChange]
) -> AsyncIterator[str]:
    """Events, heartbeats, and the end: when the subscription or the session ends."""
    clock = asyncio.get_running_loop().time
    checked = clock()
    waiting: asyncio.Future[CalendarChange] = asyncio.ensure_future(anext(changes))
    try:
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=HEARTBEAT)
            if done:
                try:
                    change = waiting.result()
                except StopAsyncIteration:
                    return
                yield event_of(change)
                waiting = asyncio.ensure_future(anext(changes))
            else:
                yield ": heartbeat\n\n"
            if clock() - checked >= RECHECK:
                if await side.accounts.session(signed.token) is None:
                    return
                checked = clock()
    finally:
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await waiting
