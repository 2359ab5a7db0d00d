"""The generated client's README examples run, against the mock, as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "generated_client" / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
DOCUMENTED_URL = "http://127.0.0.1:8000/api/v1"


def test_the_readme_has_examples_to_run() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=[f"example-{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block: str, served: MockServer) -> None:
    assert DOCUMENTED_URL in block
    code = block.replace(DOCUMENTED_URL, served.origin + "/api/v1")
    exec(compile(code, "generated_client/README.md", "exec"), {"__name__": "__readme__"})  # noqa: S102 - our own README


def test_the_typed_consumer_example_runs(served: MockServer) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "typed_consumer.py"), served.origin + "/api/v1", "mock_admin_key"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "voice only" in result.stdout
    assert "XX answered 404" in result.stdout
