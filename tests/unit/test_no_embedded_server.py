"""An install without ``pgserver`` (the container image) and without ``DATABASE_URL``: one
line naming the variable, nothing started or made."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.cli_run import salonbot


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_without_database_url_an_install_without_pgserver_asks_for_it(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pgserver", None)  # `import pgserver` fails, as there
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SALONBOT_DATA_DIR"] = str(tmp_path / "data")
    code, out, err = salonbot(env, command)
    assert code == 1
    assert out == ""
    assert err == "salonbot: DATABASE_URL: required here (this install has no embedded Postgres)\n"
    assert not (tmp_path / "data").exists()
