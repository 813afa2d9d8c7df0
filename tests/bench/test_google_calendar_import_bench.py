"""``bench/google_calendar_import.py`` run tiny: two calendars of 30 events imported twice
through the real client from the fake Calendar API, and a few free-slot searches before
and after. Its numbers are not judged here, only that it measures what it says."""

from __future__ import annotations

import pytest
from bench.google_calendar_import import Mix, measure, report

pytestmark = pytest.mark.db


async def test_the_import_bench_reads_every_calendar_in_full_each_run_and_times_the_search(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", server_url)

    run = await measure(calendars=2, events=30, runs=2, searches=3)

    mix = Mix.of(30)
    assert (mix.timed, mix.all_day, mix.free, mix.series) == (18, 3, 5, (4,))
    assert run.busy_rows == 2 * (18 + 3 + 4)  # the free ones are not busy time
    assert run.lists == 2  # one page each: every calendar read in full, again
    assert len(run.imports) == 2
    assert all(ms > 0 for ms in run.imports)
    assert len(run.without) == len(run.with_busy) == 3
    assert run.slots_with < run.slots_without  # the busy time is honoured
    assert report(run)[0].startswith("database: BENCH_DATABASE_URL's Postgres")
