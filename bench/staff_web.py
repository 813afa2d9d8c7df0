"""The staff web calendar under a busy week: 500 bookings over 5 staff.

salonbot runs as a salon runs it: ``salonbot serve`` in its own process (the installed
console script, no chat channel configured, so the staff pages alone, with its scheduler
and workers), on the benchmark's Postgres (the embedded one, or ``BENCH_DATABASE_URL``).
The salon (``bench/staff_web_salon.yaml``) and its week (``bench/staff_web_week.py``) are
made beforehand in this process through the booking use case; the week is the one after
today, since ``serve`` runs on the real clock.

Measured, in one run:
- **server**: the busiest day's view, ``GET /staff/day/{day}`` signed in as the owner,
  one request at a time over loopback (aiohttp, keep-alive), after a warm-up; ``/healthz``
  interleaved with it as the baseline;
- **transfer**: everything Chromium fetches for that day view with an empty cache (the
  page, its stylesheet and scripts), from Resource Timing;
- **interactions** in Chromium (``bench/staff_web_browser.py``): opening a booking and
  switching to the next day, Interaction to Next Paint from the Event Timing API.

Targets (issue 12): day view p95 under 50 ms from the server; INP under 50 ms for both
interactions; the day view's total transfer under 100 KB. Nothing here fails on a target.

    uv run python -m bench.staff_web [--requests 200] [--rounds 20] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.setup import bench_salon
from bench.staff_web_browser import Browsing, browse, describe, percentile
from bench.staff_web_doc import verdict_word, write_section
from bench.staff_web_week import CATALOG, DAILY, OWNER, PASSWORD, Week, fill_week, week_after
from core.ports import SystemClock

SALONBOT = Path(sys.executable).parent / "salonbot"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADING = "## Staff web calendar: a week of 500 bookings (issue 12)"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TARGET_MS = 50.0
TARGET_BYTES = 100_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def served(url: str, scratch: Path) -> AsyncIterator[str]:
    """``salonbot serve`` on ``url``'s database with no chat channel; its base address.
    Started from an empty directory, so no developer's ``.env`` reaches it."""
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "WHATSAPP_", "DATABASE_URL", "PUBLIC_BASE_URL"))
    }
    env.update(DATABASE_URL=url, HOST="127.0.0.1", PORT=str(port))
    env.update(SALONBOT_DATA_DIR=str(scratch / "data"))
    base = f"http://127.0.0.1:{port}"
    with (scratch / "serve.log").open("w") as log:
        process = await asyncio.create_subprocess_exec(
            str(SALONBOT), "serve", env=env, cwd=scratch, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(1200):  # aiogram's import alone can take a minute on a busy machine
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{base}/readyz") as answer:
                        if answer.status == 200:
                            break
                if process.returncode is not None:
                    raise RuntimeError(f"serve exited: {(scratch / 'serve.log').read_text()}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("serve did not become ready within 2 minutes")
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)


async def sign_in(session: aiohttp.ClientSession, base: str) -> None:
    async with session.get(f"{base}/staff/login") as form:
        found = CSRF.search(await form.text())
    assert found is not None, "no CSRF token on the login form"
    fields = {"email": OWNER, "password": PASSWORD, "csrf": found.group(1)}
    async with session.post(f"{base}/staff/login", data=fields, allow_redirects=False) as done:
        if done.status != 303:
            raise RuntimeError(f"sign-in refused: {done.status}")


@dataclass
class ServerTimes:
    day: list[float]
    healthz: list[float]
    page_bytes: int
    blocks: int


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url, allow_redirects=False) as answer:
        body = await answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url}: {answer.status}")
    return (time.perf_counter() - started) * 1000, body


async def time_server(base: str, week: Week, requests: int, warm_up: int) -> ServerTimes:
    """The busiest day's view and ``/healthz``, alternately, one at a time."""
    day_url = f"{base}/staff/day/{week.busiest.isoformat()}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, base)
        for _ in range(warm_up):
            _, page = await _get(session, day_url)
            await _get(session, f"{base}/healthz")
        day, healthz = [], []
        for _ in range(requests):
            day.append((await _get(session, day_url))[0])
            healthz.append((await _get(session, f"{base}/healthz"))[0])
    blocks = page.count(b"data-booking=")
    return ServerTimes(day, healthz, len(page), blocks)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _code() -> str:
    """The commit measured, ``+`` when the work tree's code differs from it."""
    root = DOCS.parents[1]
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, check=True
            )
            .stdout.decode()
            .strip()
        )
        # The benchmarks page itself is written by runs: its changes are not the code's.
        page = DOCS.relative_to(root).as_posix()
        changed = ["git", "diff", "--quiet", "HEAD", "--", ".", f":(exclude){page}"]
        dirty = subprocess.run(changed, cwd=root, check=False)
    except (OSError, subprocess.CalledProcessError):
        return "-"
    return commit + ("+" if dirty.returncode else "")


def _database() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return "BENCH_DATABASE_URL's server"
    return "embedded Postgres (pgserver, Unix socket)"


@dataclass
class Run:
    week: Week
    setup_s: float
    server: ServerTimes
    browsing: Browsing | None
    load: str
    database: str
    command: str
    when: datetime
    code: str

    def verdicts(self) -> list[tuple[str, str, bool | None]]:
        p95 = percentile(self.server.day, 95)
        rows: list[tuple[str, str, bool | None]] = [
            ("day view from the server, p95 under 50 ms", f"{p95:.1f} ms", p95 < TARGET_MS)
        ]
        if self.browsing is None:
            return rows
        for interaction in self.browsing.interactions:
            target = f"{interaction.name}: INP under 50 ms"
            if interaction.nothing and not interaction.shown:
                said = "the click shows nothing yet"
                if interaction.inp:
                    said += f" (INP of that click p95 {percentile(interaction.inp, 95):.0f} ms)"
                rows.append((target, said, None))
            elif interaction.inp and not interaction.navigation:
                worst = percentile(interaction.inp, 95)
                floor = " (all under 16 ms)" if interaction.floored == len(interaction.inp) else ""
                rows.append((target, f"p95 {worst:.0f} ms{floor}", worst < TARGET_MS))
            elif interaction.navigation:
                fcp = percentile(interaction.navigation, 95)
                said = f"no INP: a navigation; click to next page's paint p95 {fcp:.0f} ms"
                rows.append((target, said, None))
            else:
                rows.append((target, "nothing happens on the click", None))
        total = self.browsing.transfer
        rows.append(
            ("day view's total transfer under 100 KB", f"{total / 1000:.1f} KB", total < 100_000)
        )
        return rows


def _path(url: str) -> str:
    return url.split("/staff", 1)[-1]


def report(run: Run) -> str:
    server = run.server
    ratio = statistics.median(server.day) / statistics.median(server.healthz)
    lines = [
        f"{run.when:%Y-%m-%d %H:%M} UTC, {run.database}, {run.load}",
        f"week of {run.week.monday}: {run.week.bookings} bookings made in {run.setup_s:.1f} s"
        f" through Bookings.book; busiest day {run.week.busiest}"
        f" ({run.week.per_day[run.week.busiest]} bookings, {server.blocks} blocks on the page,"
        f" {server.page_bytes / 1000:.1f} KB of HTML)",
        "",
        f"{'measure':48} {'median / p95':>18}  n",
        f"{'GET /staff/day/{busiest} (signed in)':48} {describe(server.day):>18}"
        f"  {len(server.day)}   max {max(server.day):.1f} ms",
        f"{'GET /healthz (baseline, interleaved)':48} {describe(server.healthz):>18}"
        f"  {len(server.healthz)}   day view / healthz, medians: {ratio:.1f}x",
    ]
    if run.browsing is not None:
        for interaction in run.browsing.interactions:
            lines.append(f"{interaction.name}: {interaction.mode}")
            if interaction.inp:
                floored = f", {interaction.floored} under 16 ms" if interaction.floored else ""
                lines.append(
                    f"{'  INP (Event Timing)':48} {describe(interaction.inp):>18}"
                    f"  {len(interaction.inp)}{floored}"
                )
                lines.append(f"{'  INP, medians of its parts':48} {interaction.breakdown()}")
            if interaction.navigation:
                lines.append(
                    f"{'  click to next document FCP (not INP)':48}"
                    f" {describe(interaction.navigation):>18}  {len(interaction.navigation)}"
                )
            lines.append(
                f"{'  click to result shown':48} {describe(interaction.shown):>18}"
                f"  {len(interaction.shown)}"
                + (f", nothing shown {interaction.nothing}x" if interaction.nothing else "")
            )
        lines.append("transfer (cold cache):")
        for resource in run.browsing.resources:
            if resource.kind == "open":
                lines.append(f"  {_path(resource.url):46} still open when measured, not counted")
                continue
            encoding = resource.encoding or "uncompressed"
            lines.append(
                f"  {_path(resource.url):46} {resource.transfer:>8,} B"
                f"  (body {resource.body:,} B, {encoding})"
            )
        lines.append(f"  {'total':46} {run.browsing.transfer:>8,} B")
    lines.append("")
    for target, result, met in run.verdicts():
        lines.append(f"{target:48} {result:>18}  {verdict_word(met)}")
    return "\n".join(lines)


async def measure(args: argparse.Namespace) -> Run:
    scratch = Path(tempfile.mkdtemp(prefix="salonbot-bench-staff-web-"))
    catalog = CATALOG.read_text(encoding="utf-8")
    async with bench_salon(pool_size=5, catalog=catalog, clock=SystemClock()) as app:
        started = time.perf_counter()
        today = await app.salon_today()
        week = await fill_week(app, week_after(today), tuple(args.daily))
        setup_s = time.perf_counter() - started
        url = app.engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
        async with served(url, scratch) as base:
            server = await time_server(base, week, args.requests, args.warm_up)
            browsing = None
            if args.rounds:
                browsing = await browse(base, OWNER, PASSWORD, week.busiest, args.rounds)
    return Run(
        week=week,
        setup_s=setup_s,
        server=server,
        browsing=browsing,
        load=_load(),
        database=_database(),
        command="uv run python -m bench.staff_web " + " ".join(sys.argv[1:]),
        when=datetime.now(UTC),
        code=_code(),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.staff_web", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="timed GETs of the day view")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed GETs first")
    parser.add_argument("--rounds", type=int, default=20, help="clicks of each kind (0: none)")
    parser.add_argument(
        "--daily",
        type=int,
        nargs=7,
        default=list(DAILY),
        metavar="N",
        help="bookings per stylist Monday..Sunday (default: 500 in all)",
    )
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    return parser


def main(argv: list[str] | None = None) -> Run:
    args = _parser().parse_args(argv)
    # The embedded server's helper warns on every run where XDG_RUNTIME_DIR is unset.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    run = asyncio.run(measure(args))
    print(report(run))
    if args.write:
        write_section(DOCS, HEADING, run)
        print(f"written to {DOCS}")
    return run


if __name__ == "__main__":
    main()
