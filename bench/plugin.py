"""Benchmark of the pytest plugin: what `close_mock` costs a test (clean state, a rental).

Three pytest runs of the same number of tests in a scratch directory: plain tests (the
baseline), tests that only take `close_mock`, and tests that take it and rent a number with
the generated client. The difference to the baseline, per test, is the plugin's cost.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.harness import Settings

TESTS = 200
SMOKE_TESTS = 20
BODIES = {
    "baseline": "def test_plain(attempt):\n    assert attempt >= 0\n",
    "fixture": "def test_clean(close_mock, attempt):\n    assert close_mock.rentals == []\n",
    "rental": textwrap.dedent(
        """
        from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as rent
        from close_phone_numbers_client.models import PhoneNumber, PhoneNumberRequest

        def test_rents(close_mock, attempt):
            assert isinstance(rent.sync(client=close_mock.client(), body=PhoneNumberRequest(country="US")), PhoneNumber)
            assert len(close_mock.rentals) == 1
        """
    ),
}


def _seconds(directory: Path, kind: str, count: int) -> float:
    source = (
        f"import pytest\n\n\n@pytest.fixture(params=range({count}))\n"
        "def attempt(request):\n    return request.param\n\n"
    )
    (directory / f"test_{kind}.py").write_text(source + BODIES[kind], encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_{kind}.py"],
        cwd=directory, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or f"{count} passed" not in done.stdout:
        raise RuntimeError(f"the {kind} tests failed: {done.stdout[-800:]}{done.stderr[-800:]}")
    return elapsed


def bench_plugin(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Per-test cost of `close_mock` (ms), with and without a rental, over the repetitions."""
    count = SMOKE_TESTS if settings.smoke else TESTS
    runs: dict[str, list[float]] = {kind: [] for kind in BODIES}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(settings.repetitions):
            for kind in BODIES:
                runs[kind].append(_seconds(Path(scratch), kind, count))
    baseline = min(runs["baseline"])
    result: dict[str, Any] = {"tests": count, "baseline_seconds": baseline}
    for kind in ("fixture", "rental"):
        costs = [(seconds - baseline) / count * 1000 for seconds in runs[kind]]
        result[f"{kind}_ms_per_test"] = {"median": sorted(costs)[len(costs) // 2], "min": min(costs), "max": max(costs)}
    progress(
        f"  close_mock: {result['fixture_ms_per_test']['median']:.1f} ms per test, "
        f"{result['rental_ms_per_test']['median']:.1f} ms with a rental"
    )
    return result
