"""An outage of something salonbot depends on (the database), told to the log as one
story instead of a flood: it went down (once, with the cause), how many calls it refused
meanwhile (now and then), and that it came back (how long it was away, how many were
refused)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import StatementError

REPORT_EVERY = 30.0  # seconds between "still down" lines
MAX_CAUSE = 300  # characters of the cause kept in the log line


class Outage:
    """Counts the failures of one dependency seen by one part of the process.

    Call ``failed`` for each call that could not be served and ``succeeded`` for each that
    was. Each outage writes one error line when it starts, a warning with the count every
    ``report_every`` seconds while it lasts, and one line when it ends: O(1) lines for any
    number of failures, whereas a traceback per failure fills the disk within minutes.
    """

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        report_every: float = REPORT_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._what = what
        self._report_every = report_every
        self._monotonic = monotonic
        self._since: float | None = None
        self._reported_at = 0.0
        self._failures = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    @property
    def failures(self) -> int:
        """How many failures this outage has seen so far (0 when up)."""
        return self._failures

    def failed(self, cause: BaseException | str) -> None:
        now = self._monotonic()
        self._failures += 1
        if self._since is None:
            self._since = self._reported_at = now
            self._log.error(f"{self._what}: unavailable", extra={"cause": describe(cause)})
        elif now - self._reported_at >= self._report_every:
            self._reported_at = now
            self._log.warning(
                f"{self._what}: still unavailable",
                extra={"failures": self._failures, "seconds": round(now - self._since, 1)},
            )

    def succeeded(self) -> None:
        if self._since is None:
            return
        seconds = self._monotonic() - self._since
        self._log.warning(
            f"{self._what}: available again",
            extra={"failures": self._failures, "seconds": round(seconds, 1)},
        )
        self._since, self._failures = None, 0


def describe(cause: BaseException | str) -> str:
    """One line: the exception's type and message (never its traceback), cut short."""
    if isinstance(cause, StatementError) and isinstance(cause.orig, BaseException):
        cause = cause.orig  # the driver's error, without the statement and its parameters
    text = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
    line = " ".join(text.split())
    return line if len(line) <= MAX_CAUSE else line[: MAX_CAUSE - 1] + "…"
