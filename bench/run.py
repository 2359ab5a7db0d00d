"""Measure the mock, the suite, the client and generation against their peers, side by side.

`make bench` runs this with wrk and Prism installed and writes BENCHMARKS.md and
bench/results.json. `python -m bench --smoke --output DIR` is the tiny version `make test`
runs (Python load generator, no Prism, a fraction of a second per measurement) so the
harness cannot rot; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from conformance.mock.scenario import default_credentials
from conformance.suite.engine import default_seed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "openapi" / "close-phone-numbers.yaml"
PRISM = ROOT / "tools" / "node" / "node_modules" / ".bin" / "prism"
ENDPOINT = "/api/v1/phone_number/request/internal/"
ADMIN_KEY = default_credentials()[0]  # the default scenario's published test key
AUTH = "Basic " + base64.b64encode(f"{ADMIN_KEY}:".encode()).decode()
CASES = {
    "rental": {"country": "US", "sharing": "personal", "prefix": "650"},
    "validation failure": {"country": "us", "sharing": "personal"},
}


@dataclass(frozen=True)
class Settings:
    """How long and how often each measurement runs."""

    duration: float
    warmup: float
    repetitions: int
    smoke: bool


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def server(command: list[str], port: int) -> Iterator[None]:
    """Run a server process for the duration of the block."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_for_port(port, process)
        time.sleep(0.3)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def servers(state_dir: Path, *, with_prism: bool) -> dict[str, tuple[Callable[[int], list[str]], str]]:
    """The contenders: name -> (command for a port, path of the endpoint)."""
    python = sys.executable
    mock = [python, "-m", "conformance.mock.cli", "serve", "--port"]
    found: dict[str, tuple[Callable[[int], list[str]], str]] = {
        "close-mock (memory)": (lambda port: [*mock, str(port)], ENDPOINT),
        "close-mock (--state SQLite)": (
            lambda port: [*mock, str(port), "--state", str(state_dir / f"one-{port}.sqlite3")],
            ENDPOINT,
        ),
        "close-mock (2 workers, shared --state)": (
            lambda port: [*mock, str(port), "--workers", "2", "--state", str(state_dir / f"two-{port}.sqlite3")],
            ENDPOINT,
        ),
        "bare ASGI app (uvicorn)": (
            lambda port: [
                python,
                "-m",
                "uvicorn",
                "bench.bare_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            ENDPOINT,
        ),
    }
    if with_prism:
        found["Prism 5.16 (prism mock)"] = (
            lambda port: [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(CONTRACT)],
            ENDPOINT.removeprefix("/api/v1"),
        )
    return found


# -- load generators --------------------------------------------------------------------------


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(url: str, body: dict[str, Any], connections: int, duration: float) -> dict[str, float]:
    """Load with wrk: requests/s, p50 and p99 latency (ms), and non-2xx answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
            f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "{AUTH}"\n'
        )
    threads = 1 if connections == 1 else 2
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(int(duration), 1)}s",
        "--latency",
        "-s",
        script.name,
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _seconds(latency["50"]) * 1000,
        "p99_ms": _seconds(latency["99"]) * 1000,
        "requests": float(total.group(1)) if total else 0.0,
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


def python_load(url: str, body: dict[str, Any], connections: int, duration: float) -> dict[str, float]:
    """A small asyncio load generator (smoke runs only: it competes with the server for CPU)."""

    async def run() -> dict[str, float]:
        latencies: list[float] = []
        non_2xx = 0
        deadline = time.monotonic() + duration
        async with httpx.AsyncClient(
            headers={"authorization": AUTH}, limits=httpx.Limits(max_connections=connections)
        ) as client:

            async def worker() -> None:
                nonlocal non_2xx
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    response = await client.post(url, json=body)
                    latencies.append(time.perf_counter() - started)
                    non_2xx += not 200 <= response.status_code < 300

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.monotonic() - started
        ordered = sorted(latencies)
        return {
            "rps": len(ordered) / elapsed,
            "p50_ms": ordered[len(ordered) // 2] * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            "requests": float(len(ordered)),
            "non_2xx": float(non_2xx),
        }

    return asyncio.run(run())


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def _spread(stat: dict[str, float], spec: str) -> str:
    return f"{stat['median']:{spec}} ({stat['min']:{spec}}-{stat['max']:{spec}})"


def summarize(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Median and spread (min, max) of each figure over the repetitions."""
    keys = samples[0].keys()
    return {
        key: {
            "median": statistics.median(s[key] for s in samples),
            "min": min(s[key] for s in samples),
            "max": max(s[key] for s in samples),
        }
        for key in keys
    } | {"repetitions": len(samples)}


# -- the four comparisons ---------------------------------------------------------------------


def bench_servers(settings: Settings, progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """Requests/s and latency of each server, per case and concurrency."""
    use_wrk = shutil.which("wrk") is not None and not settings.smoke
    load = wrk if use_wrk else python_load
    rows = []
    with tempfile.TemporaryDirectory() as state_dir:
        contenders = servers(Path(state_dir), with_prism=PRISM.exists() and not settings.smoke)
        for name, (command, path) in contenders.items():
            port = free_port()
            with server(command(port), port):
                url = f"http://127.0.0.1:{port}{path}"
                for case, body in CASES.items():
                    for connections in (1, 10):
                        load(url, body, connections, settings.warmup)
                        samples = [load(url, body, connections, settings.duration) for _ in range(settings.repetitions)]
                        row = {"server": name, "case": case, "connections": connections} | summarize(samples)
                        rows.append(row)
                        progress(f"  {name:<40} {case:<20} c={connections:<3} {row['rps']['median']:>9.0f} req/s")
    for row in rows:
        row["load_generator"] = "wrk" if use_wrk else "python (smoke)"
    return rows


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
            cases = json.loads((Path(report) / "report.json").read_text())["requests_sent"]
        ours.append({"seconds": wall, "cases": float(cases), "cases_per_second": cases / wall})
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
    progress(
        f"  close-conformance {_median(ours, 'seconds'):.1f} s; schemathesis run {_median(theirs, 'seconds'):.1f} s"
    )
    return {
        "close-conformance (embedded mock, start-up included)": summarize(ours),
        "schemathesis run (same contract, budget, mock)": summarize(theirs),
    }


def bench_client(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Per-call time of the generated client vs hand-written httpx + JSON decoding, same server."""
    from close_phone_numbers_client import AuthenticatedClient
    from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number as endpoint
    from close_phone_numbers_client.models import PhoneNumberRequest

    calls = 50 if settings.smoke else 2000
    body = PhoneNumberRequest(country="US", prefix="650")
    raw = body.to_dict()
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    results: dict[str, Any] = {}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with server(command, port):
        with (
            AuthenticatedClient.from_api_key(base, ADMIN_KEY) as client,
            httpx.Client(base_url=base, headers={"authorization": AUTH}) as hand,
        ):

            def by_hand() -> None:
                hand.post("/phone_number/request/internal/", json=raw).json()

            def generated() -> None:
                endpoint.sync_detailed(client=client, body=body)

            results["sync"] = _compare(by_hand, generated, calls, settings.repetitions)

        async def async_pair() -> dict[str, Any]:
            async with (
                AuthenticatedClient.from_api_key(base, ADMIN_KEY) as client,
                httpx.AsyncClient(base_url=base, headers={"authorization": AUTH}) as hand,
            ):

                async def by_hand() -> None:
                    (await hand.post("/phone_number/request/internal/", json=raw)).json()

                async def generated() -> None:
                    await endpoint.asyncio_detailed(client=client, body=body)

                timings: dict[str, list[float]] = {"httpx": [], "client": []}
                for round_number in range(settings.repetitions + 1):  # the first round warms up
                    for label, call in (("httpx", by_hand), ("client", generated)):
                        started = time.perf_counter()
                        for _ in range(calls):
                            await call()
                        if round_number:
                            timings[label].append((time.perf_counter() - started) / calls)
                return _ratio(timings)

        results["async"] = asyncio.run(async_pair())
    progress(f"  client/httpx per call: sync {results['sync']['ratio']:.3f}x, async {results['async']['ratio']:.3f}x")
    return results


def _compare(
    by_hand: Callable[[], None], generated: Callable[[], None], calls: int, repetitions: int
) -> dict[str, Any]:
    timings: dict[str, list[float]] = {"httpx": [], "client": []}
    for round_number in range(repetitions + 1):  # the first round warms up
        for label, call in (("httpx", by_hand), ("client", generated)):
            started = time.perf_counter()
            for _ in range(calls):
                call()
            if round_number:
                timings[label].append((time.perf_counter() - started) / calls)
    return _ratio(timings)


def _ratio(timings: dict[str, list[float]]) -> dict[str, Any]:
    hand, client = statistics.median(timings["httpx"]), statistics.median(timings["client"])
    return {
        "httpx_us_per_call": hand * 1e6,
        "client_us_per_call": client * 1e6,
        "ratio": client / hand,
        "spread_ratio": [
            min(timings["client"]) / max(timings["httpx"]),
            max(timings["client"]) / min(timings["httpx"]),
        ],
    }


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
    progress(f"  generate {_median(generate, 'seconds'):.2f} s, check-generated {_median(check, 'seconds'):.2f} s")
    return {"generate": summarize(generate), "check-generated": summarize(check)}


# -- report -----------------------------------------------------------------------------------


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
            f"refusals recorded from the mock), start-up included: {_spread(replay['seconds'], '.2f')} s."
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
        "",
        (
            f"Added at p50: {_spread(proxy['added_p50_ms'], '.2f')} ms paced; "
            f"{_spread(proxy['saturated_added_p50_ms'], '.1f')} ms saturated, where the proxy (one Python process that "
            "also judges every exchange) is the bottleneck and the figure is queueing."
        ),
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
            f"| {r['server']} | {r['case']} | {r['connections']} | {_spread(rps, '.0f')} "
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
            f"| {name} | {_spread(s['seconds'], '.2f')} | {s['cases']['median']:.0f} "
            f"| {s['cases_per_second']['median']:.0f} |"
        )
    out += [
        "",
        "close-conformance also runs 22 fixed probes, the semantic checks, the has-voice-only retries and the",
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
        out.append(f"| make {name} | {_spread(g['seconds'], '.2f')} |")
    if "replay" in results and "proxy" in results:
        out += _traffic_section(results["replay"], results["proxy"])
    if "plugin" in results:
        plugin = results["plugin"]
        out += [
            "",
            "## pytest plugin",
            "",
            (
                f"{plugin['tests']} tests per pytest run, against a run of plain tests "
                f"({plugin['baseline_seconds']:.2f} s): `close_mock` costs "
                f"{_spread(plugin['fixture_ms_per_test'], '.1f')} ms per test for a clean mock, "
                f"{_spread(plugin['rental_ms_per_test'], '.1f')} ms with a rental through the generated client "
                "(server start-up once per session included)."
            ),
        ]
    notes = results.get("notes")
    if notes:
        out += ["", "## Notes", "", notes]
    return "\n".join(out) + "\n"


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
    from bench import traffic

    results["replay"] = traffic.bench_replay(settings, progress)
    load = python_load if settings.smoke or not shutil.which("wrk") else wrk
    results["proxy"] = traffic.bench_proxy(settings, progress, load)
    progress("pytest plugin")
    from bench import plugin

    results["plugin"] = plugin.bench_plugin(settings, progress)
    if args.notes and args.notes.exists():
        results["notes"] = args.notes.read_text(encoding="utf-8")
    (args.output / "bench").mkdir(parents=True, exist_ok=True)
    (args.output / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.output / "BENCHMARKS.md").write_text(markdown(results), encoding="utf-8")
    for target, measured, met in headline(results):
        progress(f"{target}: {measured} ({'met' if met == 'yes' else 'MISSED'})")
    return 0
