"""Reading the Dockerfile and ``.dockerignore`` as Docker does, for the tests that check
them without a Docker daemon (none runs on these machines)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass
class Stage:
    """One ``FROM`` and its instructions, as (instruction, arguments) in order."""

    image: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.steps if name == instruction]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: comments dropped, ``\\`` continued lines
    joined (a comment line inside a continued instruction is dropped, as Docker does)."""
    joined: list[str] = []
    current = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            joined.append(current.strip())
        current = ""
    result = []
    for line in joined:
        name, _, args = line.partition(" ")
        result.append((name.upper(), args.strip()))
    return result


def stages(text: str | None = None) -> list[Stage]:
    """The Dockerfile's stages, ``ARG``s before the first ``FROM`` substituted in images."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for name, rest in instructions(text if text is not None else DOCKERFILE.read_text()):
        if name == "ARG" and not found:
            key, _, value = rest.partition("=")
            args[key] = value
        elif name == "FROM":
            words = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(image, alias))
        else:
            found[-1].steps.append((name, rest))
    return found


def env_of(stage: Stage) -> dict[str, str]:
    """The stage's ``ENV KEY=VALUE ...`` settings (unquoted; ``$NAME`` left as written)."""
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """A JSON-array instruction's argv (``CMD ["python", "-c", "..."]``)."""
    parsed = json.loads(args)
    assert isinstance(parsed, list)
    return [str(word) for word in parsed]


def healthcheck_argv(stage: Stage) -> list[str]:
    """The ``HEALTHCHECK ... CMD [...]`` command of a stage."""
    (check,) = stage.all("HEALTHCHECK")
    _, _, command = check.partition(" CMD ")
    return exec_form(command)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern as a regex (Go's filepath.Match, plus ``**``)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignore_rules(text: str | None = None) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per pattern line of ``.dockerignore``."""
    rules = []
    source = text if text is not None else DOCKERIGNORE.read_text()
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the build context leaves ``path`` (relative, with ``/``) out: the last
    pattern that matches it or one of its parent directories decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def build_context() -> list[str]:
    """The repository's files that reach a build (tracked ones: what a clone holds)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    rules = ignore_rules()
    return sorted(path for path in listed.split("\0") if path and not ignored(path, rules))
