"""Client generation and the drift check: how long `make generate` and `make check-generated` take."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from bench.harness import ROOT, Settings, median, summarize

if TYPE_CHECKING:
    from collections.abc import Callable


def bench_generation(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Wall time of `make generate` (into a scratch directory) and `make check-generated`."""
    generate: list[dict[str, float]] = []
    check: list[dict[str, float]] = []
    for _ in range(settings.repetitions):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "scripts/generate.py", "--output", scratch + "/out"],
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            generate.append({"seconds": time.perf_counter() - started})
        started = time.perf_counter()
        subprocess.run([sys.executable, "scripts/check_generated.py"], check=True, capture_output=True, cwd=ROOT)
        check.append({"seconds": time.perf_counter() - started})
    progress(f"  generate {median(generate, 'seconds'):.2f} s, check-generated {median(check, 'seconds'):.2f} s")
    return {"generate": summarize(generate), "check-generated": summarize(check)}
