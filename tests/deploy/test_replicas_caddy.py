"""README's "Several replicas": the Caddyfile lines it offers for balancing each request
over the replicas are what Debian's caddy accepts, and mean what the README says."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy.docker_files import ROOT
from tests.deploy.tools import required_tool

README = ROOT / "README.md"


def _offered_lines() -> str:
    """The Caddyfile block README's Several replicas section offers."""
    section = README.read_text(encoding="utf-8").split("## Several replicas", 1)[1]
    after = section.split("replace the `reverse_proxy` line of the\nCaddyfile with:\n```\n", 1)
    assert len(after) == 2, "the README no longer offers the block"
    return after[1].split("```", 1)[0]


def _adapted(tmp_path: Path, caddyfile: str) -> dict[str, Any]:
    path = tmp_path / "Caddyfile"
    path.write_text(caddyfile)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    run = subprocess.run(
        [required_tool("caddy"), "adapt", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**env, "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    loaded = json.loads(run.stdout)
    assert isinstance(loaded, dict)
    return loaded


def test_the_offered_lines_balance_over_every_address_the_name_has(tmp_path: Path) -> None:
    config = _adapted(tmp_path, "salon.example.com {\n" + _offered_lines() + "}\n")
    text = json.dumps(config)
    (server,) = config["apps"]["http"]["servers"].values()
    (route,) = server["routes"]
    (subroute,) = route["handle"]
    (inner,) = subroute["routes"]
    (proxy,) = inner["handle"]
    assert proxy["handler"] == "reverse_proxy", text
    # Each address the compose service's name resolves to (one per replica) is an upstream,
    # looked up again every 5 s; a request that finds one down tries another for 5 s.
    assert proxy["dynamic_upstreams"] == {
        "source": "a",
        "name": "salonbot",
        "port": "8080",
        "refresh": 5_000_000_000,
    }
    assert proxy["load_balancing"] == {"try_duration": 5_000_000_000}
    assert "upstreams" not in proxy
