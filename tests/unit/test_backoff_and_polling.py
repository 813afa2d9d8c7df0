"""How long a failed piece of work waits before its next try, and the loop every
background worker runs."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

import pytest

from core.services.backoff import LONGEST_RETRY, retry_delay
from core.services.outage import Outage
from core.services.polling_loop import poll_until_stopped
from core.services.wakeup import Wakeup


def test_the_backoff_doubles_from_a_second_and_never_passes_its_cap_even_with_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the longest jitter
    assert retry_delay(1) == timedelta(seconds=1.25)
    assert retry_delay(3) == timedelta(seconds=5)
    assert retry_delay(9) == LONGEST_RETRY  # 256 s * 1.25 would be 320 s
    assert retry_delay(10_000) == LONGEST_RETRY  # no overflow however many attempts
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert retry_delay(10_000) == LONGEST_RETRY * 0.75


async def test_the_polling_loop_works_on_through_failures_until_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopping = asyncio.Event()
    outage = Outage(logging.getLogger("salonbot.test"), "the work")
    turns: list[str] = []
    script = ["fail", "work", "idle", "fail", "work", "stop"]

    async def work_one() -> bool:
        turn = script.pop(0)
        turns.append(turn)
        if turn == "fail":
            raise ConnectionRefusedError("the database is away")
        if turn == "stop":
            stopping.set()
        return turn == "work"

    rests: list[str] = []

    def rest() -> float:
        rests.append(turns[-1])
        return 0.0

    with caplog.at_level(logging.WARNING, logger="salonbot.test"):
        await poll_until_stopped(work_one, stopping, Wakeup(), outage, rest)
    assert turns == ["fail", "work", "idle", "fail", "work", "stop"]
    assert rests == ["fail", "idle", "fail"]  # it rests after an empty turn, never once stopped
    assert [r.getMessage() for r in caplog.records] == [
        "the work: unavailable",
        "the work: available again",
        "the work: unavailable",
        "the work: available again",
    ]
