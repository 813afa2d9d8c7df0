"""``bench.staff_web --write``: its section of ``docs/benchmarks.md``.

The section is the script's: its text is rewritten on every ``--write``, each run adds a
row to its table (older rows are kept), and the verdicts are the latest run's. Notes
written by hand below ``NOTES`` are kept as they are.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from bench.staff_web_browser import Interaction, describe

if TYPE_CHECKING:
    from bench.staff_web import Run

NOTES = "<!-- Notes below this line are kept by `python -m bench.staff_web --write`. -->"
_ROW_HEAD = (
    "| date (UTC) | code | command | database, load | day view from the server, median / p95"
    " | `/healthz`, median / p95 | ratio of medians | open a booking | next day"
    " | transfer, cold cache |"
)

_INTRO = """Targets (issue 12), for a week of 500 bookings over 5 staff: the day view rendered by
the server in p95 under 50 ms; in Chromium, Interaction to Next Paint under 50 ms for
opening a booking and for switching to the next day; the day view's total transfer under
100 KB.

    uv run python -m bench.staff_web            # --write records the run here

How it runs:
- **The salon** (`bench/staff_web_salon.yaml`): five people in Europe/Berlin, open every
  day (09:00-20:00 with a half-hour break on weekdays, 10:00-17:00 on Sunday), services of
  15-45 minutes. **The week** (`bench/staff_web_week.py`): the one after today, 14
  bookings a person on weekdays, 20 on Saturday, 10 on Sunday, 500 in all, each made by
  `Bookings.book` (the use case the chat and the desk use: locks, re-check, insert,
  history), for a pool of 300 customers (Telegram, WhatsApp, added at the desk); and an
  owner account.
- **The server is `salonbot serve`**, the installed console script in its own process,
  with no chat channel configured (the staff pages, workers and scheduler), on the real
  clock, over the same database. The busiest day (Saturday, 100 bookings) is measured.
- **Server:** signed in as the owner, `GET /staff/day/{Saturday}` one request at a time
  over loopback (aiohttp, keep-alive), 20 untimed first, then 200 timed, each followed by
  a `GET /healthz` (the baseline, interleaved so the machine's noise hits both alike).
  Times are the client's, request sent to body read.
- **Transfer:** Chromium (Debian's, headless, Playwright) loads the day view in a new
  context holding only the session cookie (an empty cache); every document and resource
  Resource Timing lists, `transferSize` (headers included). `serve` compresses nothing:
  the sizes are uncompressed unless the table says otherwise. The live stream the page
  opens (`/staff/live`, Server-Sent Events) is still open when the load is measured and
  is not counted.
- **Interactions:** on a freshly loaded day view, click a booking block (a different one
  each round; done when the booking's customer shows in an open `<dialog>`, or on the
  booking's page), or "next day" (done when the next day's heading shows), 2 warm-up
  rounds then 20 of each. A click is made as a hand makes it: the pointer rests on the
  target for 250 ms (so what the page does on hover, such as prefetching, has run), then
  the button is pressed for 80 ms. "Shown" is the click event to the result on screen
  (polled every animation frame). INP comes from a `PerformanceObserver` on `event` entries
  (`durationThreshold: 16`) grouped by `interactionId`, the longest entry of the click's
  interaction; one with no entry over 16 ms counts as 16 ms (an upper bound). A click that
  loads another document takes its Event Timing entries with it: then the figure is the
  click to the new document's first contentful paint, and is not INP.
- **One machine:** the browser, `serve` and Postgres share its 2 cores (with whatever
  else runs): a fetch the page makes during an interaction competes with it for the CPU,
  which a salon's front desk, on its own computer, would not see."""


def verdict_word(met: bool | None) -> str:
    return {True: "met", False: "missed", None: "not measurable yet"}[met]


def _interaction(interaction: Interaction) -> str:
    if interaction.navigation and not interaction.inp:
        return f"a navigation: click to next page's paint {describe(interaction.navigation)}"
    if not interaction.inp:
        return "nothing happens"
    floored = f", {interaction.floored} of {len(interaction.inp)} under 16 ms"
    shown = f"; shown {describe(interaction.shown)}" if interaction.shown else ""
    nothing = f"; nothing shown {interaction.nothing}x" if interaction.nothing else ""
    return (
        f"INP {describe(interaction.inp)}{floored if interaction.floored else ''}{shown}{nothing}"
    )


def run_row(run: Run) -> str:
    server = run.server
    ratio = statistics.median(server.day) / statistics.median(server.healthz)
    if run.browsing is None:
        opened = switched = transfer = "not measured"
    else:
        opened, switched = (_interaction(i) for i in run.browsing.interactions)
        transfer = f"{run.browsing.transfer / 1000:.1f} KB"
    cells = [
        f"{run.when:%Y-%m-%d %H:%M}",
        f"`{run.code}`",
        f"`{run.command.strip()}`",
        f"{run.database}, {run.load}",
        f"{describe(server.day)} (max {max(server.day):.0f} ms, n={len(server.day)})",
        describe(server.healthz),
        f"{ratio:.1f}x",
        opened,
        switched,
        transfer,
    ]
    return "| " + " | ".join(cells) + " |"


def section(heading: str, rows: list[str], run: Run, notes: str) -> str:
    verdicts = "\n".join(
        f"| {target} | {result} | {verdict_word(met)} |" for target, result, met in run.verdicts()
    )
    week = run.week
    return f"""{heading}

{_INTRO}

Runs (one row per `--write`; the page held {run.server.blocks} booking blocks on
{week.busiest}, {run.server.page_bytes / 1000:.1f} KB of HTML, in the latest):

{_ROW_HEAD}
{"| --- " * 10}|
{chr(10).join(rows)}

Against the targets (the latest run, {run.when:%Y-%m-%d}):

| target | result | verdict |
| --- | --- | --- |
{verdicts}

{NOTES}
{notes.strip()}
"""


def write_section(path: Path, heading: str, run: Run) -> None:
    text = path.read_text(encoding="utf-8")
    before, found, rest = text.partition(heading)
    rows, notes, after = [], "", ""
    if found:
        old, next_heading, tail = rest.partition("\n## ")
        after = next_heading + tail if next_heading else ""
        rows = [line for line in old.splitlines() if line.startswith("| 20")]
        notes = old.partition(NOTES)[2]
    else:
        before = text.rstrip("\n") + "\n\n"
    rows.append(run_row(run))
    new = section(heading, rows, run, notes)
    if after:
        new = new.rstrip("\n") + "\n\n" + after.lstrip("\n")
    path.write_text(before + new.rstrip("\n") + "\n", encoding="utf-8")
