"""Pacing: no window of one second ever sees more sends than the platform allows."""

from __future__ import annotations

import pytest

from core.services.pacing import Pacer, Pacing, TokenBucket
from tests.fakes.telegram_api import busiest_second


def _greedy_sends(
    pacer: Pacer, chats: list[str], seconds: float, step: float = 0.001
) -> list[tuple[float, str]]:
    """Send whenever the overall bucket and the chat's bucket allow, round-robin over chats."""
    sent: list[tuple[float, str]] = []
    now, turn = 0.0, 0
    while now < seconds:
        chat = chats[turn % len(chats)]
        if pacer.overall.wait(now) == 0 and pacer.chat(chat, now).wait(now) == 0:
            pacer.overall.take(now)
            pacer.chat(chat, now).take(now)
            sent.append((now, chat))
            turn += 1
        else:
            now += step
    return sent


def test_many_chats_never_exceed_thirty_in_any_second() -> None:
    pacer = Pacer(Pacing(), 0.0)
    sent = _greedy_sends(pacer, [f"c{i}" for i in range(200)], 10.0)
    assert busiest_second([t for t, _ in sent]) <= 30
    assert len(sent) >= 28 * 10  # and it does go that fast


def test_one_chat_gets_about_one_a_second_after_a_short_burst() -> None:
    pacer = Pacer(Pacing(), 0.0)
    sent = _greedy_sends(pacer, ["only"], 10.0)
    assert busiest_second([t for t, _ in sent]) <= 3
    assert 10 <= len(sent) <= 12


def test_a_bucket_waits_exactly_until_its_next_token() -> None:
    bucket = TokenBucket(rate=2.0, burst=1.0, now=0.0)
    assert bucket.wait(0.0) == 0
    bucket.take(0.0)
    assert bucket.wait(0.0) == pytest.approx(0.5)
    assert bucket.wait(0.25) == pytest.approx(0.25)
    assert bucket.wait(0.5) == 0


def test_hold_off_rests_the_bucket_for_retry_after() -> None:
    bucket = TokenBucket(rate=1.0, burst=2.0, now=0.0)
    bucket.hold_off(5.0, 0.0)
    assert bucket.wait(0.0) == pytest.approx(5.0)  # nothing for the 5 s Telegram asked
    assert bucket.wait(4.9) > 0
    assert bucket.wait(5.0) == 0


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_refuses_nonsense(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="bucket"):
        TokenBucket(rate, burst, 0.0)
