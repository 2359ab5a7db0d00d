"""`make bench` cannot rot: its harness runs end to end in a tiny smoke version (figures ignored)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_harness_runs_and_writes_both_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    ours = next(iter(results["suite"].values()))
    assert ours["probes"]["median"] > 0  # BENCHMARKS.md cites the fixed probes' count from the run itself
    servers = {row["server"] for row in results["servers"]}
    assert {
        "close-mock (memory)",
        "close-mock (--state SQLite)",
        "close-mock (2 workers, shared --state)",
        "bare ASGI app (uvicorn)",
    } <= servers
    assert all(row["requests"]["median"] > 0 for row in results["servers"])
    rentals = [row for row in results["servers"] if row["case"] == "rental" and row["server"].startswith("close-mock")]
    assert all(row["non_2xx"]["median"] == 0 for row in rentals)
    failures = [row for row in results["servers"] if row["case"] == "validation failure"]
    assert all(
        row["non_2xx"]["median"] == row["requests"]["median"]
        for row in failures
        if row["server"].startswith("close-mock")
    )
    client = results["client"]["sync"]
    assert client["httpx_us_per_call"] > 0
    assert client["client_us_per_call"] > 0
    assert client["ratio"] == pytest.approx(client["client_us_per_call"] / client["httpx_us_per_call"], rel=0.2)
    assert results["replay"]["exchanges"] > 0
    assert results["proxy"]["through_proxy"]["non_2xx"] == 0
    assert results["plugin"]["tests"] > 0
    assert results["suite"]["schemathesis run (same contract, budget, mock)"]["cases"]["median"] > 0
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "## Targets" in text
    assert "## Client" in text


def test_the_hot_path_figures_profiling_md_cites_are_printed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.hotpath"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("id: ", "number_formatted: ", "rental JSON: ", "rentals in-process (no sockets): "):
        assert line in result.stdout, result.stdout
