"""Run a user's test file as a user would: written outside the tree, run by pytest in a subprocess.

Nothing of this project's conftest or settings applies there; the plugin (and any other pytest
plugin installed, such as pytest-httpx and respx) is found through its `pytest11` entry point.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path


def pytest_run(
    tmp_path: Path,
    source: str,
    *args: str,
    name: str = "test_user.py",
    python: str = sys.executable,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Write `source` to `tmp_path/name` and run pytest on it there (by `python`, in `env`)."""
    (tmp_path / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", *args, name],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300, env=env,
    )  # fmt: skip


def count(result: subprocess.CompletedProcess[str], outcome: str) -> int:
    """How many tests had `outcome` (passed, failed, error...) in pytest's closing line."""
    found = re.search(rf"(\d+) {outcome}", result.stdout)
    return int(found.group(1)) if found else 0


def passed(result: subprocess.CompletedProcess[str]) -> int:
    """How many tests passed."""
    return count(result, "passed")
