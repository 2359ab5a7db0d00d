"""BENCHMARKS.md from the results: the machine, the headline targets, the tables."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.harness import PRISM, spread


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    versions = {
        name: metadata.version(name)
        for name in ("uvicorn", "httpx", "schemathesis", "hypothesis", "openapi-python-client", "phonenumbers")
    }
    if shutil.which("wrk"):
        versions["wrk"] = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[1]
    if PRISM.exists():
        versions["prism"] = subprocess.run(
            [str(PRISM), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "date": time.strftime("%Y-%m-%d"),
    }


def _row(server_rows: list[dict[str, Any]], name: str, case: str, connections: int) -> dict[str, Any] | None:
    return next(
        (r for r in server_rows if r["server"] == name and r["case"] == case and r["connections"] == connections), None
    )


def headline(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, met?) for each stated target."""
    rows = results["servers"]
    lines = []
    ours = _row(rows, "close-mock (--state SQLite)", "rental", 10)
    memory = _row(rows, "close-mock (memory)", "rental", 10)
    prism = _row(rows, "Prism 5.16 (prism mock)", "rental", 10)
    bare = _row(rows, "bare ASGI app (uvicorn)", "rental", 10)
    if memory and prism:
        ratio = memory["rps"]["median"] / prism["rps"]["median"]
        met = "yes" if ratio >= 3 else "no"
        lines.append(
            ("mock >= 3x Prism (rentals, 10 connections, validation + default in-memory state)", f"{ratio:.2f}x", met)
        )
    if ours and prism:
        ratio = ours["rps"]["median"] / prism["rps"]["median"]
        lines.append(
            (
                "mock >= 3x Prism (rentals, 10 connections, validation + SQLite state on)",
                f"{ratio:.2f}x",
                "yes" if ratio >= 3 else "no",
            )
        )
    if ours and bare:
        ratio = ours["rps"]["median"] / bare["rps"]["median"]
        lines.append(
            ("mock >= 70% of the bare ASGI ceiling (same case)", f"{ratio:.0%}", "yes" if ratio >= 0.7 else "no")
        )
    suite = results["suite"]["close-conformance (embedded mock, start-up included)"]
    lines.append(
        (
            "suite < 10 s for >= 300 cases",
            f"{suite['seconds']['median']:.1f} s, {suite['cases']['median']:.0f} cases",
            "yes" if suite["seconds"]["median"] < 10 and suite["cases"]["median"] >= 300 else "no",
        )
    )
    for flavour in ("sync", "async"):
        ratio = results["client"][flavour]["ratio"]
        lines.append(
            (f"client <= 1.15x hand-written httpx ({flavour})", f"{ratio:.3f}x", "yes" if ratio <= 1.15 else "no")
        )
    if "replay" in results:
        replay = results["replay"]
        seconds = replay["seconds"]["median"]
        target = f"replay of {replay['exchanges']:,} exchanges < 10 s (start-up included)"
        lines.append((target, f"{seconds:.1f} s", "yes" if seconds < 10 else "no"))
    if "page" in results:
        page = results["page"]
        size = max(figures["bytes"] for figures in page["pages"].values())
        opens = max(figures["open_seconds"]["median"] for figures in page["pages"].values())
        met = "yes" if size < 5_000_000 and opens < 2 else "no"
        target = f"HTML report of a replay of {page['exchanges']:,} exchanges < 5 MB, opens < 2 s"
        lines.append((target, f"{size / 1e6:.2f} MB, {opens:.2f} s", met))
    if "plugin" in results:
        cost = results["plugin"]["rental_ms_per_test"]["median"]
        lines.append(("close_mock costs <= 50 ms per test (clean state and a rental)", f"{cost:.1f} ms",
                      "yes" if cost <= 50 else "no"))  # fmt: skip
    if "proxy" in results:
        added = results["proxy"]["added_p50_ms"]["median"]
        lines.append(
            (
                "proxy adds <= 1 ms at p50 (rentals, 10 connections, paced at 200 requests/s)",
                f"{added:.2f} ms",
                "yes" if added <= 1 else "no",
            )
        )
    return lines


def _traffic_section(replay: dict[str, Any], proxy: dict[str, Any]) -> list[str]:
    """BENCHMARKS.md's section on replay and the proxy."""

    def row(load: str, path: str, stats: dict[str, float]) -> str:
        return f"| {load} | {path} | {stats['rps']:,.0f} | {stats['p50_ms']:.2f} | {stats['p99_ms']:.2f} |"

    paced = f"paced, {proxy['paced_rate']:g} requests/s"
    return [
        "",
        "## Traffic judges",
        "",
        (
            f"`close-conformance replay` of a HAR with {replay['exchanges']:,} exchanges with the endpoint "
            "(rentals and "
            f"refusals recorded from the mock), start-up included: {spread(replay['seconds'], '.2f')} s."
        ),
        "",
        f"`close-conformance proxy` in front of the mock (rentals, {proxy['connections']} connections):",
        "",
        "| load | path | requests/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
        row(paced, "straight to the mock", proxy["paced_direct"]),
        row(paced, "through the proxy", proxy["paced_through_proxy"]),
        row("saturating (wrk)", "straight to the mock", proxy["direct"]),
        row("saturating (wrk)", "through the proxy", proxy["through_proxy"]),
        *(
            [row(paced, "through Prism's validating proxy (`prism proxy --errors`)", proxy["paced_through_prism"])]
            if proxy.get("paced_through_prism")
            else []
        ),
        "",
        (
            f"Added at p50: {spread(proxy['added_p50_ms'], '.2f')} ms paced; "
            f"{spread(proxy['saturated_added_p50_ms'], '.1f')} ms saturated, where the proxy (one Python process that "
            "also judges every exchange) is the bottleneck and the figure is queueing."
        ),
        *(
            [
                (
                    f"Prism's validating proxy adds {spread(proxy['prism_added_p50_ms'], '.2f')} ms at p50 under "
                    f"the same paced load: ours adds "
                    f"{proxy['added_p50_ms']['median'] / proxy['prism_added_p50_ms']['median']:.2f}x Prism's "
                    "(same run, same mock)."
                )
            ]
            if proxy.get("prism_added_p50_ms") and proxy["prism_added_p50_ms"]["median"] > 0
            else []
        ),
    ]


def _page_section(page: dict[str, Any]) -> list[str]:
    """BENCHMARKS.md's section on the HTML report."""
    what = {
        "report.html": "report.html as `close-conformance replay --report-dir` writes it",
        "report-with-timeline.html": "the same record with a timeline of every exchange (from the HAR)",
    }
    rows = [
        f"| {what.get(name, name)} | {figures['bytes'] / 1000:,.0f} | {spread(figures['open_seconds'], '.2f')} |"
        for name, figures in page["pages"].items()
    ]
    return [
        "",
        "## HTML report",
        "",
        (
            f"The report of a replay of {page['exchanges']:,} exchanges, opened in headless {page['chromium']} "
            f"(from the navigation to the page loaded and painted; measured {page.get('date', 'with the rest')}):"
        ),
        "",
        "| page | KB | opens in s (spread) |",
        "|---|---|---|",
        *rows,
    ]


def markdown(results: dict[str, Any]) -> str:
    """BENCHMARKS.md."""
    m = results["machine"]
    settings = results["settings"]
    out = [
        "# Benchmarks",
        "",
        (
            f"Measured by `make bench` on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
            f"Python {m['python']}."
        ),
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        (
            f"Each figure is the median of {settings['repetitions']} runs of {settings['duration']:g} s "
            f"after a {settings['warmup']:g} s warm-up, with the spread (min to max) beside it. Ratios are the"
        ),
        "headline; absolute numbers move from machine to machine. Load generator: wrk on the same machine",
        "(it shares the 2 cores with the server, equally for every contender). Reproduce with `make bench`;",
        "the same figures are in `bench/results.json`.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    out += [f"| {t} | {v} | {ok} |" for t, v, ok in headline(results)]
    out += [
        "",
        "## Mock server",
        "",
        "| server | case | connections | requests/s (spread) | p50 ms | p99 ms | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["servers"]:
        rps = r["rps"]
        out.append(
            f"| {r['server']} | {r['case']} | {r['connections']} | {spread(rps, '.0f')} "
            f"| {r['p50_ms']['median']:.2f} | {r['p99_ms']['median']:.2f} "
            f"| {r['non_2xx']['median']:.0f} of {r['requests']['median']:.0f} |"
        )
    out += [
        "",
        "Prism answers every valid request with the contract's fixed example (no state, no business rules);",
        "the bare ASGI app returns a fixed body and is the ceiling of uvicorn + Python. close-mock validates",
        "against the contract, applies the business rules, allocates a unique number with `phonenumbers`",
        "and records the rental.",
        "",
    ]
    out += ["## Conformance suite", "", "| run | wall s (spread) | cases | cases/s |", "|---|---|---|---|"]
    for name, s in results["suite"].items():
        out.append(
            f"| {name} | {spread(s['seconds'], '.2f')} | {s['cases']['median']:.0f} "
            f"| {s['cases_per_second']['median']:.0f} |"
        )
    ours = next(iter(results["suite"].values()))
    probes = f"{ours['probes']['median']:.0f} fixed probes" if "probes" in ours else "its fixed probes"
    out += [
        "",
        f"close-conformance also runs {probes}, the semantic checks, the has-voice-only retries and the",
        "mock audit, and its figure includes starting and stopping the embedded mock; `schemathesis run` is",
        "given an already running mock.",
        "",
    ]
    out += [
        "## Client",
        "",
        "| flavour | hand-written httpx µs/call | generated client µs/call | ratio (spread) |",
        "|---|---|---|---|",
    ]
    for flavour, c in results["client"].items():
        out.append(
            f"| {flavour} | {c['httpx_us_per_call']:.0f} | {c['client_us_per_call']:.0f} "
            f"| {c['ratio']:.3f} ({c['spread_ratio'][0]:.3f}-{c['spread_ratio'][1]:.3f}) |"
        )
    out += [
        "",
        "Same loopback server (the bare ASGI app returning the example Phone Number), one keep-alive connection each;",
        "the client also builds the typed `PhoneNumber` (attrs, datetimes) that the hand-written call",
        "leaves as a dict.",
        "",
    ]
    out += ["## Generation", "", "| command | seconds (spread) |", "|---|---|"]
    for name, g in results["generation"].items():
        out.append(f"| make {name} | {spread(g['seconds'], '.2f')} |")
    if "replay" in results and "proxy" in results:
        out += _traffic_section(results["replay"], results["proxy"])
    if "page" in results:
        out += _page_section(results["page"])
    if "plugin" in results:
        plugin = results["plugin"]
        out += [
            "",
            "## pytest plugin",
            "",
            (
                f"{plugin['tests']} tests per pytest run, against a run of plain tests "
                f"({plugin['baseline_seconds']:.2f} s): `close_mock` costs "
                f"{spread(plugin['fixture_ms_per_test'], '.1f')} ms per test for a clean mock, "
                f"{spread(plugin['rental_ms_per_test'], '.1f')} ms with a rental through the generated client "
                "(server start-up once per session included)."
            ),
        ]
    notes = results.get("notes")
    if notes:
        out += ["", "## Notes", "", notes]
    return "\n".join(out) + "\n"
