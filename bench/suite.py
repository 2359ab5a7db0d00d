"""The conformance suite against plain `schemathesis run`: time and requests for one run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness import ADMIN_KEY, CONTRACT, ROOT, Settings, free_port, median, server, summarize
from conformance.suite.engine import default_seed

if TYPE_CHECKING:
    from collections.abc import Callable


def bench_suite(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Wall time of the default conformance run vs `schemathesis run` with the same contract and budget."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    examples = "20" if settings.smoke else "210"
    for _ in range(settings.repetitions):
        with tempfile.TemporaryDirectory() as report:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "conformance", "--quiet", "--examples", examples, "--report-dir", report],
                check=True, capture_output=True, cwd=ROOT,
            )  # fmt: skip
            wall = time.perf_counter() - started
            record = json.loads((Path(report) / "report.json").read_text())
            cases = record["requests"]["answered"]
            fixed = record["requests"]["probes"]
            released = record["lifecycle"]["released"]
        ours.append(
            {"seconds": wall, "cases": float(cases), "cases_per_second": cases / wall, "probes": float(fixed),
             "released": float(released)}
        )  # fmt: skip
        port = free_port()
        with server([sys.executable, "-m", "conformance.mock.cli", "serve", "--port", str(port)], port):
            started = time.perf_counter()
            output = subprocess.run(
                [
                    sys.executable, "-m", "schemathesis.cli",
                    "--config-file", str(ROOT / "conformance/suite/schemathesis.toml"),
                    "run", str(CONTRACT), "-u", f"http://127.0.0.1:{port}/api/v1", "-a", f"{ADMIN_KEY}:",
                    "-n", examples, "--seed", str(default_seed()),
                ],
                capture_output=True, text=True, check=False, cwd=ROOT,
            ).stdout  # fmt: skip
            wall = time.perf_counter() - started
        generated = re.search(r"(\d+) generated", output)
        cases = float(generated.group(1)) if generated else 0.0
        theirs.append({"seconds": wall, "cases": cases, "cases_per_second": cases / wall})
    progress(f"  close-conformance {median(ours, 'seconds'):.1f} s; schemathesis run {median(theirs, 'seconds'):.1f} s")
    return {
        "close-conformance (embedded mock, start-up included)": summarize(ours),
        "schemathesis run (same contract, budget, mock)": summarize(theirs),
    }
