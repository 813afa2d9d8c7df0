"""An outage told to the log as one story, and the bound on a request's wait."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.ports import StoreUnavailable
from core.services.outage import Outage, describe
from core.services.request_bound import RequestBound
from tests.waiting import until

log = logging.getLogger("salonbot.test")


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _said(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, object]]:
    return [
        (r.levelname, r.getMessage(), getattr(r, "cause", getattr(r, "failures", None)))
        for r in caplog.records
    ]


def test_an_outage_is_one_line_down_a_count_now_and_then_and_one_line_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = Ticks()
    outage = Outage(log, "the store", report_every=30, monotonic=ticks)
    outage.succeeded()  # up and staying up: nothing to say
    for _ in range(200):
        outage.failed(ConnectionRefusedError("[Errno 111] Connect call failed"))
        ticks.now += 0.25  # 50 s of failures
    assert outage.down
    outage.succeeded()
    outage.succeeded()

    assert _said(caplog) == [
        (
            "ERROR",
            "the store: unavailable",
            "ConnectionRefusedError: [Errno 111] Connect call failed",
        ),
        ("WARNING", "the store: still unavailable", 121),  # 30 s in
        ("WARNING", "the store: available again", 200),
    ]
    assert caplog.records[-1].seconds == 50.0  # type: ignore[attr-defined]
    assert not outage.down
    assert all(r.exc_info is None for r in caplog.records)


def test_the_next_outage_is_a_new_story(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage(log, "the store", monotonic=Ticks())
    for _ in range(2):
        outage.failed("no answer within 2 s")
        outage.succeeded()
    assert [r.getMessage() for r in caplog.records] == [
        "the store: unavailable",
        "the store: available again",
    ] * 2


def test_a_cause_is_one_short_line() -> None:
    assert describe(ValueError("a\nlong\n\nstory")) == "ValueError: a long story"
    assert len(describe("x" * 10_000)) == 300


async def test_a_wait_past_the_bound_is_refused_and_the_work_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bound = RequestBound(Outage(log, "the store"), seconds=0.05)
    release = asyncio.Event()

    async def slow_insert() -> bool:
        await release.wait()
        return True

    work = asyncio.ensure_future(slow_insert())
    with pytest.raises(StoreUnavailable):
        await bound(work)
    assert not work.done()  # the bound ended the wait, not the work
    release.set()
    assert await work is True
    assert await bound(asyncio.sleep(0, result="stored")) == "stored"
    assert [r.getMessage() for r in caplog.records] == [
        "the store: unavailable",
        "the store: available again",
    ]


async def test_a_failure_of_the_work_is_refused_too() -> None:
    bound = RequestBound(Outage(log, "the store"), seconds=1)

    async def broken() -> bool:
        raise OSError("connection reset")

    with pytest.raises(StoreUnavailable):
        await bound(broken())
    assert bound.outage.failures == 1


async def test_work_past_its_most_at_once_is_refused_without_starting() -> None:
    bound = RequestBound(Outage(log, "the reports"), seconds=0.05, most_at_once=2)
    release = asyncio.Event()
    started: list[int] = []

    async def waits(n: int) -> int:
        started.append(n)
        await release.wait()
        return n

    for n in range(2):  # refused at the bound, but still going
        with pytest.raises(StoreUnavailable):
            await bound(waits(n))
    with pytest.raises(StoreUnavailable):
        await bound(waits(2))  # two are still going: this one is not started
    assert started == [0, 1]
    assert bound.running == 2
    release.set()

    async def ended() -> bool:
        return bound.running == 0

    await until(ended, "the two work pieces let go have ended", within=5)
    assert await bound(waits(3)) == 3
    assert bound.outage.failures == 0  # the success ended the outage
