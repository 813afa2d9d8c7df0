"""The outside programs the deploy tests run: Debian's ``caddy`` and ``docker-compose``.

CI installs them (``.ci/run``), and there a missing one fails the test; on a developer's
machine without them the test is skipped, saying what to install.
"""

from __future__ import annotations

import os
import shutil

import pytest

PACKAGES = {"caddy": "caddy", "docker-compose": "docker-compose"}


def required_tool(name: str) -> str:
    """The program's path; in CI a failure without it, elsewhere a skip."""
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed (apt-get install {PACKAGES[name]})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: .ci/run installs it", pytrace=False)
    pytest.skip(f"{reason}; CI installs it and runs this test")
