"""Shared measurement harness: settings, free ports, server processes, load generators, statistics."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from conformance.mock.scenario import default_credentials

if TYPE_CHECKING:
    from collections.abc import Iterator


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


def median(samples: list[dict[str, float]], key: str) -> float:
    """The median of one figure over repeated samples."""
    return statistics.median(sample[key] for sample in samples)


def spread(stat: dict[str, float], spec: str) -> str:
    """A summarized figure as `median (min-max)`."""
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


def bare_app_command(port: int) -> list[str]:
    """Uvicorn serving `bench/bare_app.py`: the ceiling of uvicorn + Python, and the client benchmark's server."""
    return [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--log-level", "warning",
            "--no-access-log"]  # fmt: skip
