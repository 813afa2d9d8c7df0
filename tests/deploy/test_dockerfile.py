"""The Dockerfile and its build context, without Docker (no daemon runs on these machines):
what the image is made of is read from the files, and the build stage's own commands are
run on the build context ``.dockerignore`` leaves, into an environment that then migrates
a database as the container would."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.deploy.docker_files import (
    ROOT,
    Stage,
    build_context,
    env_of,
    exec_form,
    healthcheck_argv,
    ignore_rules,
    ignored,
    stages,
)

# A version tag down to the patch (``python:3.11.15-slim-bookworm``), never ``latest``.
PINNED = re.compile(r"[a-z0-9./-]+:\d+\.\d+\.\d+[a-z0-9.-]*")


def _final() -> Stage:
    return stages()[-1]


def test_both_stages_start_from_one_python_image_pinned_to_its_patch_version() -> None:
    build, final = stages()
    assert build.name == "build"
    assert build.image == final.image
    assert PINNED.fullmatch(final.image), final.image
    assert final.image.startswith("python:3.11.")  # the version pyproject and CI use


def test_the_image_runs_serve_as_a_user_that_is_not_root() -> None:
    final = _final()
    (user,) = final.all("USER")
    assert user not in ("root", "0")
    assert exec_form(final.all("ENTRYPOINT")[0]) == ["salonbot"]
    assert exec_form(final.all("CMD")[0]) == ["serve"]
    env = env_of(final)
    assert env["HOST"] == "0.0.0.0"  # the container's own loopback is reachable by nobody


def test_only_the_built_environment_reaches_the_final_stage() -> None:
    """No uv, no source tree, no compiler: the final stage copies /opt/salonbot and adds
    nothing but its user."""
    final = _final()
    assert final.all("COPY") == ["--from=build /opt/salonbot /opt/salonbot"]
    (run,) = final.all("RUN")
    assert shlex.split(run)[0] == "groupadd"
    assert "apt-get" not in run
    assert "pip" not in run


def test_the_healthcheck_asks_healthz_with_python_alone() -> None:
    argv = healthcheck_argv(_final())
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2]
    assert "/healthz" in argv[2]


def test_compose_runs_the_dockerfiles_healthcheck() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["salonbot"]["healthcheck"]["test"]
    assert test == ["CMD", *healthcheck_argv(_final())]


def test_secrets_and_local_state_never_reach_the_build() -> None:
    rules = ignore_rules()
    for path in (
        ".env",
        ".env.production",
        "secrets/google.json",
        "salon.yaml",
        "catalog/salon.yaml",
        ".git/config",
        ".venv/bin/python",
        ".salonbot/pgdata/PG_VERSION",
        "src/salonbot/__pycache__/cli.cpython-311.pyc",
    ):
        assert ignored(path, rules), path
    for path in ("pyproject.toml", "uv.lock", "src/salonbot/cli.py", "migrations/env.py"):
        assert not ignored(path, rules), path


def test_the_ignore_rules_read_as_docker_reads_them() -> None:
    """The last matching pattern decides, a directory's pattern covers what is in it."""
    rules = ignore_rules("*\n!src\nsrc/**/*.pyc\n!src/keep.pyc\n")
    assert ignored("README.md", rules)
    assert not ignored("src/a/b.py", rules)
    assert ignored("src/a/b.pyc", rules)
    assert not ignored("src/keep.pyc", rules)


def _copy_into(context: list[str], source: str, target: Path) -> None:
    """``COPY source target`` from the build context (a file or a directory's files)."""
    files = [path for path in context if path == source or path.startswith(f"{source}/")]
    assert files, f"COPY {source}: not in the build context (.dockerignore?)"
    for path in files:
        destination = target / Path(path).relative_to(source) if path != source else target
        if path == source and target.is_dir():
            destination = target / Path(path).name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, destination)


def _rehearse_build(tmp_path: Path) -> Path:
    """The build stage's ENV, WORKDIR, COPY and ``uv sync`` lines, run as written on the
    build context, into a directory standing for /opt/salonbot (returned). Only the uv
    cache is this machine's (Docker's build starts empty): the packages are the locked
    ones either way."""
    build = stages()[0]
    context = build_context()
    root, opt = tmp_path / "image", tmp_path / "opt-salonbot"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv is not None
    workdir = root
    for instruction, args in build.steps:
        if instruction == "ENV":
            stage_env = env_of(Stage(build.image, None, [(instruction, args)]))
            assert stage_env.pop("UV_PROJECT_ENVIRONMENT") == "/opt/salonbot"
            stage_env["UV_PROJECT_ENVIRONMENT"] = str(opt)
            stage_env["UV_PYTHON"] = sys.executable  # the image's python: the same 3.11
            stage_env.pop("UV_NO_CACHE")
            env.update(stage_env)
        elif instruction == "WORKDIR":
            workdir = root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, target = shlex.split(args)
            for source in sources:
                _copy_into(context, source, workdir / target)
        elif instruction == "RUN":
            argv = shlex.split(args)
            if argv[:2] == ["pip", "install"]:
                assert any(re.fullmatch(r"uv==\d+\.\d+\.\d+", word) for word in argv), argv
                continue  # uv itself: this machine's stands for it
            assert argv[:2] == ["uv", "sync"], argv
            synced = subprocess.run(
                [uv, *argv[1:]], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
            )
            assert synced.returncode == 0, synced.stderr
        else:
            raise AssertionError(f"the rehearsal does not know {instruction}")
    shutil.rmtree(root)  # the source tree is gone, as in the final stage
    return opt


def _in_the_image(opt: Path, home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a command as the final stage would: its ENV, its PATH, away from the source."""
    outside = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV", "VIRTUAL_ENV", "PYTHON")) and k != "DATABASE_URL"
    }
    outside.update({k: v for k, v in env_of(_final()).items() if k != "PATH"})
    outside["PATH"] = f"{opt / 'bin'}{os.pathsep}{outside.get('PATH', '')}"

    def run(*argv: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=home,
            env={**outside, **more},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run


@pytest.mark.slow
def test_the_build_stage_makes_an_environment_that_migrates_without_pgserver(
    fresh_database: Callable[[], str], tmp_path: Path
) -> None:
    """The build stage's commands on the build context, then ``salonbot migrate`` from
    the environment they made, as the container runs it."""
    opt = _rehearse_build(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    run = _in_the_image(opt, home)

    probe = (
        "import salonbot, importlib.util as u; print(salonbot.__file__, u.find_spec('pgserver'))"
    )
    where = run(str(opt / "bin" / "python"), "-c", probe)
    assert where.returncode == 0, where.stderr
    module, pgserver = where.stdout.split()
    assert Path(module).is_relative_to(opt)  # installed, not a link to the source
    assert pgserver == "None"

    migrated = run("salonbot", "migrate", DATABASE_URL=fresh_database())
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == "database schema is at head\n"
    without = run("salonbot", "migrate")
    assert without.returncode == 1
    assert without.stderr.strip() == (
        "salonbot: DATABASE_URL: required here (this install has no embedded Postgres)"
    )
    assert not (home / ".salonbot").exists()
