"""axe-core (the copy axe-playwright-python ships) run on a page: its serious and critical
violations, readable."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from playwright.async_api import Page

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = frozenset({"serious", "critical"})


async def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe finds on ``page`` as it is now, with all
    of axe's rules (WCAG 2.0-2.2 A and AA, and its best practices).

    The script is evaluated through the DevTools protocol, which the page's Content
    Security Policy does not govern: the page is checked as served.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = await page.evaluate(
        "options => axe.run(document, options)", {"resultTypes": ["violations"]}
    )
    return [v for v in results["violations"] if v.get("impact") in BLOCKING]


def report(violations: list[dict[str, Any]]) -> str:
    """One line per violation and the elements it was found on."""
    lines = []
    for violation in violations:
        targets = [json.dumps(node["target"]) for node in violation["nodes"][:5]]
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"on {', '.join(targets)}"
        )
    return "\n".join(lines)
