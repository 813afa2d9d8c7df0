"""``bench/staff_web.py`` run tiny, end to end: a small week, ``salonbot serve`` in its own
process, a few timed requests, one click of each kind in Chromium, and its section of the
benchmarks page written twice. Its numbers are not judged here, only that it measures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench.staff_web import HEADING, _parser, measure
from bench.staff_web_doc import NOTES, write_section
from bench.staff_web_week import Week

pytestmark = pytest.mark.db

TINY = ["--daily", "2", "2", "2", "2", "2", "3", "1", "--requests", "3", "--warm-up", "1"]


async def test_the_staff_web_bench_measures_a_small_week_and_records_it(
    server_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", server_url)
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (CI installs it)")

    run = await measure(_parser().parse_args([*TINY, "--rounds", "1"]))

    assert isinstance(run.week, Week)
    assert run.week.bookings == 5 * 14  # 2 a day for five people, 3 on Saturday, 1 on Sunday
    assert run.week.busiest.weekday() == 5
    assert run.server.blocks == run.week.per_day[run.week.busiest] == 15
    assert len(run.server.day) == len(run.server.healthz) == 3
    assert all(ms > 0 for ms in run.server.day + run.server.healthz)
    assert run.browsing is not None
    kinds = {resource.kind for resource in run.browsing.resources}
    assert "navigation" in kinds
    assert any(r.url.endswith("/static/staff.css") and r.body > 0 for r in run.browsing.resources)
    assert run.browsing.transfer >= run.server.page_bytes
    for interaction in run.browsing.interactions:
        assert len(interaction.inp) + len(interaction.navigation) + interaction.nothing >= 1

    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n## Another section\n\nIts text.\n", encoding="utf-8")
    write_section(page, HEADING, run)
    page.write_text(page.read_text() + "A note written by hand.\n", encoding="utf-8")
    write_section(page, HEADING, run)
    text = page.read_text()

    assert text.startswith("# Benchmarks\n\n## Another section\n\nIts text.\n\n" + HEADING)
    assert text.count(HEADING) == 1
    assert len([line for line in text.splitlines() if line.startswith("| 20")]) == 2
    assert text.endswith(NOTES + "\nA note written by hand.\n")
