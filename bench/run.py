"""Measure the mock, the suite, the client and generation against their peers, side by side.

`make bench` runs this with wrk and Prism installed and writes BENCHMARKS.md and
bench/results.json. `python -m bench --smoke --output DIR` is the tiny version `make test`
runs (Python load generator, no Prism, a fraction of a second per measurement) so the
harness cannot rot; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from bench import page, plugin, traffic
from bench.client import bench_client
from bench.generation import bench_generation
from bench.harness import ROOT, Settings, python_load, wrk
from bench.report import headline, machine, markdown
from bench.servers import bench_servers
from bench.suite import bench_suite


def main(argv: list[str] | None = None) -> int:
    """Run every comparison and write the reports."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only proves the harness works")
    parser.add_argument("--output", type=Path, default=ROOT, help="where BENCHMARKS.md and bench/results.json go")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--notes", type=Path, help="a Markdown file appended to BENCHMARKS.md (profiling before/after)")
    parser.add_argument("--render", action="store_true", help="only rewrite BENCHMARKS.md from bench/results.json")
    args = parser.parse_args(argv)
    if args.render:
        stored: dict[str, Any] = json.loads((args.output / "bench" / "results.json").read_text(encoding="utf-8"))
        if args.notes and args.notes.exists():
            stored["notes"] = args.notes.read_text(encoding="utf-8")
        (args.output / "BENCHMARKS.md").write_text(markdown(stored), encoding="utf-8")
        return 0
    settings = (
        Settings(0.3, 0.1, 1, smoke=True) if args.smoke else Settings(args.duration, 1.0, args.repetitions, smoke=False)
    )

    def progress(line: str) -> None:
        print(line, flush=True)

    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "duration": settings.duration,
            "warmup": settings.warmup,
            "repetitions": settings.repetitions,
            "smoke": settings.smoke,
        },
    }
    progress("mock server")
    results["servers"] = bench_servers(settings, progress)
    progress("conformance suite")
    results["suite"] = bench_suite(settings, progress)
    progress("client")
    results["client"] = bench_client(settings, progress)
    progress("generation")
    results["generation"] = bench_generation(settings, progress)
    progress("traffic judges (replay, proxy)")
    results["replay"] = traffic.bench_replay(settings, progress)
    load = python_load if settings.smoke or not shutil.which("wrk") else wrk
    results["proxy"] = traffic.bench_proxy(settings, progress, load)
    progress("HTML report (headless Chromium)")
    results["page"] = page.bench_page(settings, progress)
    progress("pytest plugin")
    results["plugin"] = plugin.bench_plugin(settings, progress)
    if args.notes and args.notes.exists():
        results["notes"] = args.notes.read_text(encoding="utf-8")
    (args.output / "bench").mkdir(parents=True, exist_ok=True)
    (args.output / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.output / "BENCHMARKS.md").write_text(markdown(results), encoding="utf-8")
    for target, measured, met in headline(results):
        progress(f"{target}: {measured} ({'met' if met == 'yes' else 'MISSED'})")
    return 0
