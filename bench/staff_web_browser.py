"""The staff day view in Chromium (Playwright): what it transfers, and how fast it answers
the two interactions issue 12 names, opening a booking and switching to the next day.

Interaction to Next Paint is read the way Chromium reports it, from the Event Timing API:
a ``PerformanceObserver`` on ``event`` entries (``durationThreshold: 16``, the least the
API allows), grouped by ``interactionId`` (a click's pointerdown, pointerup and click are
one interaction; its duration is the longest of them, input delay to the next paint). An
interaction whose entries are all under 16 ms leaves none: it is counted as 16 ms, an upper
bound, and said so. A click that loads another document takes its entries with the old
one; for it the figure is the click to the new document's first contentful paint,
reported under that name, never as INP.

"Shown" is the click to the moment the result is on the page: the dialog holding the
booking's customer, or the next day's heading, polled every animation frame.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 900}
# A person's click: the pointer rests on the target a moment (hover effects and anything
# the page does on hover run first), then the button goes down and up.
AIM_MS, PRESS_MS = 250, 80

# Runs before any page script: the observer, the click event's time (kept across a
# navigation in sessionStorage, in epoch milliseconds), and a mark that tells one document
# from the next.
_OBSERVE = """
(() => {
  const seen = new Map();
  window.__bench = {seen, document: Math.random()};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!e.interactionId) continue;
      const had = seen.get(e.interactionId);
      if (!had || e.duration > had.duration) {
        seen.set(e.interactionId, {
          duration: e.duration, name: e.name,
          delay: e.processingStart - e.startTime,
          processing: e.processingEnd - e.processingStart,
          presentation: e.startTime + e.duration - e.processingEnd,
        });
      }
    }
  }).observe({type: 'event', durationThreshold: 16, buffered: true});
  addEventListener('click', (e) => {
    sessionStorage.setItem('bench-click', String(performance.timeOrigin + e.timeStamp));
  }, {capture: true});
})();
"""

_IDS = "() => [...window.__bench.seen.keys()]"
_DOCUMENT = "() => window.__bench.document"
# Two animation frames and a breath: the observer's callback comes after the next paint.
_SETTLE = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
  () => setTimeout(done, 60))))"""
_CLICKED = "Number(sessionStorage.getItem('bench-click'))"
_SINCE_CLICK = f"() => performance.timeOrigin + performance.now() - {_CLICKED}"
_FCP_SINCE_CLICK = f"""() => {{
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return fcp ? performance.timeOrigin + fcp.startTime - {_CLICKED} : null;
}}"""


@dataclass
class Interaction:
    """What one kind of interaction measured: INP samples (ms; ``floored``: how many left
    no entry, counted as 16), navigation samples (click to the next document's FCP), and
    the click to the result shown."""

    name: str
    inp: list[float] = field(default_factory=list)
    floored: int = 0
    navigation: list[float] = field(default_factory=list)
    shown: list[float] = field(default_factory=list)
    nothing: int = 0  # clicks after which nothing was shown within the wait
    # Of each INP sample over 16 ms: input delay, processing, presentation delay (ms).
    parts: list[tuple[float, float, float]] = field(default_factory=list)

    def breakdown(self) -> str:
        """Medians of the INP's three parts, where it has any."""
        if not self.parts:
            return "-"
        delay, processing, presentation = (
            statistics.median(p) for p in zip(*self.parts, strict=True)
        )
        return (
            f"input delay {delay:.0f}, processing {processing:.0f},"
            f" presentation {presentation:.0f} ms"
        )

    @property
    def mode(self) -> str:
        if self.navigation and not self.inp:
            return "navigation (a new document)"
        if self.inp and not self.navigation:
            return "in place (same document)"
        if self.navigation:
            return "mixed"
        return "nothing happened"


@dataclass
class Resource:
    url: str
    kind: str
    transfer: int  # bytes over the wire, headers included (Resource Timing's transferSize)
    body: int  # the body as sent (encodedBodySize)
    decoded: int  # the body once decoded (decodedBodySize)
    encoding: str  # Content-Encoding, "" when none


@dataclass
class Browsing:
    resources: list[Resource]
    interactions: list[Interaction]

    @property
    def transfer(self) -> int:
        return sum(r.transfer for r in self.resources)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _signed_in(browser: Browser, base: str, email: str, password: str) -> Page:
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    await context.add_init_script(_OBSERVE)
    page = await context.new_page()
    await page.goto(f"{base}/staff/login")
    await page.fill("#email", email)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    return page


async def _transfer(browser: Browser, signed_in: Page, url: str) -> list[Resource]:
    """The day view loaded in a new context holding only the session's cookies: an empty
    cache, so every file is fetched as on a first visit."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    await context.add_cookies(await signed_in.context.cookies())  # type: ignore[arg-type]
    page = await context.new_page()
    encodings: dict[str, str] = {}
    asked: list[str] = []
    page.on(
        "response",
        lambda response: encodings.__setitem__(
            response.url, response.headers.get("content-encoding", "")
        ),
    )
    page.on("request", lambda request: asked.append(request.url))
    await page.goto(url, wait_until="load")
    await page.wait_for_timeout(500)  # anything the page's scripts fetch once loaded
    entries = await page.evaluate(
        """() => [...performance.getEntriesByType('navigation'),
                 ...performance.getEntriesByType('resource')].map((e) => ({
          url: e.name, kind: e.initiatorType, transfer: e.transferSize,
          body: e.encodedBodySize, decoded: e.decodedBodySize}))"""
    )
    await context.close()
    listed = {entry["url"] for entry in entries}
    # A request Resource Timing does not list has not ended: the live stream, say.
    streams = [Resource(url, "open", 0, 0, 0, "") for url in asked if url not in listed]
    timed = [Resource(**entry, encoding=encodings.get(entry["url"], "")) for entry in entries]
    return timed + streams


async def _fresh(page: Page, url: str) -> None:
    """The day view freshly loaded, and idle."""
    await page.goto(url, wait_until="load")
    await page.evaluate(_SETTLE)
    await page.wait_for_timeout(150)


async def _measure(page: Page, click: str, shown: str, arg: object, into: Interaction) -> None:
    """Click ``click``; wait until ``shown(arg)`` holds (a new document counts as shown
    once loaded); file what the click cost under ``into``."""
    before = set(await page.evaluate(_IDS))
    document = await page.evaluate(_DOCUMENT)
    # As a hand does it: the pointer comes to rest on the target, then a press of 80 ms.
    await page.hover(click)
    await page.wait_for_timeout(AIM_MS)
    await page.click(click, delay=PRESS_MS)
    try:
        await page.wait_for_function(shown, arg=arg, polling="raf", timeout=3000)
        shown_ms = await page.evaluate(_SINCE_CLICK)
    except Exception:  # the page navigated away, or nothing came in time
        shown_ms = None
    with contextlib.suppress(Exception):
        await page.wait_for_load_state("load")
    await page.evaluate(_SETTLE)
    if await page.evaluate(_DOCUMENT) != document:
        fcp = await page.evaluate(_FCP_SINCE_CLICK)
        if fcp is not None:
            into.navigation.append(fcp)
        if await page.evaluate(shown, arg):
            into.shown.append(await page.evaluate(_FCP_SINCE_CLICK) or 0.0)
        else:
            into.nothing += 1
        return
    if shown_ms is None:
        into.nothing += 1
    else:
        into.shown.append(shown_ms)
    seen = await page.evaluate("() => Object.fromEntries(window.__bench.seen)")
    new = [entry for key, entry in seen.items() if int(key) not in before]
    if new:
        longest = max(new, key=lambda entry: entry["duration"])
        into.inp.append(longest["duration"])
        into.parts.append(
            (longest["delay"], longest["processing"], max(0.0, longest["presentation"]))
        )
    else:
        into.inp.append(16.0)
        into.floored += 1


_DIALOG_SHOWS = """(name) => {
  if (location.pathname.startsWith('/staff/booking/')) {
    return document.body.innerText.includes(name);
  }
  const open = document.querySelector('dialog[open]');
  return !!open && open.innerText.includes(name);
}"""
_DAY_SHOWS = """(day) => location.pathname.endsWith('/day/' + day)
  && !!document.querySelector('h1') && document.querySelector('h1').dataset.benchOld !== '1'"""


async def open_bookings(page: Page, url: str, rounds: int, warm_up: int) -> Interaction:
    """Click booking blocks of the day (a different one each round) on a fresh page."""
    measured = Interaction("open a booking")
    thrown = Interaction("warm-up")
    await _fresh(page, url)
    count = await page.locator("[data-booking]").count()
    for n in range(warm_up + rounds):
        await _fresh(page, url)
        index = (n * 7) % count
        block = page.locator("[data-booking]").nth(index)
        name = (await block.locator(".customer").inner_text()).strip()
        await block.evaluate("(b) => b.setAttribute('data-bench-target', '1')")
        await _measure(
            page, "[data-bench-target]", _DIALOG_SHOWS, name, measured if n >= warm_up else thrown
        )
    return measured


async def next_days(page: Page, url: str, day: date, rounds: int, warm_up: int) -> Interaction:
    """Click "next day" on a fresh day view, ``rounds`` times."""
    measured = Interaction("next day")
    thrown = Interaction("warm-up")
    following = (day + timedelta(days=1)).isoformat()
    for n in range(warm_up + rounds):
        await _fresh(page, url)
        # The heading shown now is marked: the next day's heading, new or swapped in, is not.
        await page.evaluate("() => document.querySelector('h1').dataset.benchOld = '1'")
        await _measure(
            page,
            "nav.dates a[rel=next]",
            _DAY_SHOWS,
            following,
            measured if n >= warm_up else thrown,
        )
    return measured


async def browse(
    base: str, email: str, password: str, day: date, rounds: int, warm_up: int = 2
) -> Browsing:
    url = f"{base}/staff/day/{day.isoformat()}"
    async with chromium() as browser:
        page = await _signed_in(browser, base, email, password)
        resources = await _transfer(browser, page, url)
        opened = await open_bookings(page, url, rounds, warm_up)
        switched = await next_days(page, url, day, rounds, warm_up)
    return Browsing(resources, [opened, switched])


def describe(samples: list[float]) -> str:
    if not samples:
        return "-"
    return f"{statistics.median(samples):.0f} / {percentile(samples, 95):.0f} ms"


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank ``p``th percentile."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]
