"""When to try again after a failure: shared by the inbox (an event that failed) and the
outbox (a send that failed)."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 1 s, 2 s, 4 s, ..., never more than 5 minutes
    (the cap holds after the jitter)."""
    # Twenty doublings pass the cap already; more would only overflow the power.
    delay: timedelta = min(FIRST_RETRY * 2 ** (min(attempt, 20) - 1), LONGEST_RETRY)
    jitter = random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret
    return min(delay * jitter, LONGEST_RETRY)
