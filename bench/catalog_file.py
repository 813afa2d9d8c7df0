"""Reading catalog files at and beyond the limits: what is refused is refused at once.

Target (issue #10, defect 12): every file beyond a limit answered within a second with one
line. Baseline, measured in the same run: reading the demo catalog (3.7 KB).

    uv run python -m bench.catalog_file
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from tests.catalog_cases import BILLION_LAUGHS, DEMO_TEXT, catalog_at_limits, to_yaml

from bench.setup import summary
from core.catalog.file import load_catalog_text, read_catalog_file
from core.catalog.problems import CatalogError

RUNS = 15


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _refused(text: str) -> Callable[[], object]:
    def read() -> None:
        try:
            load_catalog_text(text)
        except CatalogError as error:
            problems = error.problems
        else:
            raise AssertionError("accepted")
        if len(problems) != 1:
            raise AssertionError(problems)

    return read


def _most_values() -> str:
    """About 96,000 values: 80 staff each offering all 1,000 services."""
    data = catalog_at_limits(services=1000, staff=80, exceptions=0, languages=1)
    for i, service in enumerate(data["services"]):
        service["id"] = f"s{i}"
    for member in data["staff"]:
        member["services"] = [f"s{i}" for i in range(1000)]
    return str(yaml.dump(data, Dumper=yaml.CSafeDumper, default_flow_style=None, width=10**9))


def main() -> None:
    at_limits = to_yaml(catalog_at_limits())
    most_values = _most_values()
    with tempfile.TemporaryDirectory() as directory:
        huge = Path(directory) / "huge.yaml"
        huge.write_text(DEMO_TEXT + "#" * 9_000_000, encoding="utf-8")
        cases: list[tuple[str, Callable[[], object], int]] = [
            ("demo catalog (baseline)", lambda: load_catalog_text(DEMO_TEXT), RUNS),
            ("refused: billion laughs", _refused(BILLION_LAUGHS), RUNS),
            ("refused: nested 1,000 deep", _refused("salon: " + "[" * 1000 + "]" * 1000), RUNS),
            (
                "refused: an exception on 9999-12-31",
                _refused(DEMO_TEXT.replace("- date: 2026-12-24", "- date: 9999-12-31", 1)),
                RUNS,
            ),
            ("refused: a 9 MB file", _refused_file(huge), RUNS),
            (
                f"every count at its limit ({len(at_limits) // 1000} KB)",
                lambda: load_catalog_text(at_limits),
                5,
            ),
            (
                f"96,000 values ({len(most_values) // 1000} KB)",
                lambda: load_catalog_text(most_values),
                5,
            ),
        ]
        base = 0.0
        for name, call, runs in cases:
            samples = _timed(call, runs)
            base = base or statistics.median(samples)
            ratio = statistics.median(samples) / base
            print(f"{name:40} {summary(samples)}  {ratio:7.1f}x baseline")


def _refused_file(path: Path) -> Callable[[], object]:
    def read() -> None:
        try:
            read_catalog_file(path)
        except CatalogError:
            return
        raise AssertionError("accepted")

    return read


if __name__ == "__main__":
    main()
