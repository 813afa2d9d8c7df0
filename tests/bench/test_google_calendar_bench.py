"""``bench/google_calendar.py`` run tiny: ten bookings pushed through serve's pieces while
half the inserts hang past the client's timeout pass the bench's own checks (one event
each, on its calendar, none inserted twice, nothing parked). Its numbers are not judged
here, only that it measures and checks (the lag's part is the same path as
tests/integration/test_calendar_push_wake.py)."""

from __future__ import annotations

import pytest
from bench.google_calendar import push_many

pytestmark = pytest.mark.db


async def test_the_google_calendar_bench_pushes_through_hanging_inserts_and_checks_them(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", server_url)

    drained = await push_many(10, hang_share=0.5, client_timeout=0.3, tick=0.2)

    assert drained.problems == ()
    assert drained.count == 10
    assert drained.hung >= 1
    assert drained.retried >= drained.hung
    assert drained.seconds > 0
