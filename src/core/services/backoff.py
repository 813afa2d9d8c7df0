"""When to try again after a failure: shared by the inbox (an event that failed) and the
outbox (a send that failed)."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 1 s, 2 s, 4 s, ... capped at 5 minutes."""
    delay: timedelta = min(FIRST_RETRY * 2 ** (attempt - 1), LONGEST_RETRY)
    return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret
