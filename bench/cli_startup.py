"""How long the ``salonbot`` command takes to start, run as a salon runs it.

Target (issue #10): ``salonbot catalog check examples/salon.yaml`` under 1.5 s on the
development machine. The installed console script runs in a new process each time, as
from a shell; so do two baselines with the same interpreter: an empty program, and
importing SQLAlchemy and PyYAML (what a command that touches the catalog or the database
cannot avoid). Commands run in rounds, one of each per round, so drift on a shared
machine touches them all alike. Wall time is what a salon waits; CPU time (user + sys of
the child) is steadier when other work loads the machine.

    uv run python -m bench.cli_startup [ROUNDS]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SALONBOT = str(Path(sys.executable).parent / "salonbot")
ROUNDS = 15

COMMANDS = {
    "baseline: python -c pass": [sys.executable, "-c", "pass"],
    "baseline: python -c 'import sqlalchemy, yaml'": [
        sys.executable,
        "-c",
        "import sqlalchemy, yaml",
    ],
    "salonbot --help": [SALONBOT, "--help"],
    "salonbot catalog check examples/salon.yaml": [
        SALONBOT,
        "catalog",
        "check",
        "examples/salon.yaml",
    ],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment(pycache: str) -> dict[str, str]:
    """This environment, but Python keeps the bytecode it compiles, as on a salon's server.
    (A development machine may turn writing it off; the cache goes to a temp dir, never
    into the installed packages.)"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run; a failing command stops the benchmark."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def main(rounds: int = ROUNDS) -> None:
    with tempfile.TemporaryDirectory(prefix="salonbot-pycache-") as pycache:
        measure(rounds, _environment(pycache))


def measure(rounds: int, env: dict[str, str]) -> None:
    for argv in COMMANDS.values():
        run_once(argv, env)  # warm the bytecode cache and the file system cache
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, argv in COMMANDS.items():
            seconds, used = run_once(argv, env)
            wall[name].append(seconds)
            cpu[name].append(used)
    print(f"{rounds} rounds; medians")
    print(f"{'command':<48} {'wall':>8} {'cpu':>8}")
    for name in COMMANDS:
        print(
            f"{name:<48} {statistics.median(wall[name]):7.2f}s {statistics.median(cpu[name]):7.2f}s"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
