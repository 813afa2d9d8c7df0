"""Token buckets: how fast a sender may go, per chat and per bot."""

from __future__ import annotations

from dataclasses import dataclass


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up. Times are monotonic seconds."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = max(self._at, now)

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        """Spend a token (callers ``wait`` first; taking early goes into debt)."""
        self._refill(now)
        self._tokens -= 1

    def hold_off(self, seconds: float, now: float) -> None:
        """Nothing for ``seconds``: the platform said to wait (Telegram's retry_after)."""
        self._refill(now)
        self._tokens = min(self._tokens, 1 - seconds * self.rate)


@dataclass(frozen=True, slots=True)
class Pacing:
    """A channel's limits: Telegram allows about 1 message/s per chat (short bursts pass),
    30/s per bot. With a burst of ``b`` and a rate ``r``, no window of one second sees
    more than ``b + r`` sends leave (30 by default, Telegram's limit). The dispatcher takes
    the token just before each send, so the sends leave as evenly as they were paced."""

    per_chat_rate: float = 1.0
    per_chat_burst: float = 2.0
    # 28/s with a burst of 2: a late wake-up is made up for, and a second still sees 30.
    overall_rate: float = 28.0
    overall_burst: float = 2.0


class Pacer:
    """One channel's buckets: one for all its sends and one per chat."""

    def __init__(self, pacing: Pacing, now: float) -> None:
        self._pacing = pacing
        self.overall = TokenBucket(pacing.overall_rate, pacing.overall_burst, now)
        self._chats: dict[str, TokenBucket] = {}

    def chat(self, chat_id: str, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:  # forget idle chats: a full bucket is the default
                self._chats = {k: b for k, b in self._chats.items() if b.wait(now) > 0}
            bucket = TokenBucket(self._pacing.per_chat_rate, self._pacing.per_chat_burst, now)
            self._chats[chat_id] = bucket
        return bucket

    def waiting_chats(self, now: float) -> list[str]:
        """Chats that may not be sent to yet."""
        return [chat for chat, bucket in self._chats.items() if bucket.wait(now) > 0]
