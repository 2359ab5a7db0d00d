"""The mock under load against its peers (Prism, a bare ASGI app), by storage and worker count."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness import (
    CASES,
    CONTRACT,
    ENDPOINT,
    PRISM,
    Settings,
    bare_app_command,
    free_port,
    python_load,
    server,
    summarize,
    wrk,
)

if TYPE_CHECKING:
    from collections.abc import Callable


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
        "bare ASGI app (uvicorn)": (bare_app_command, ENDPOINT),
    }
    if with_prism:
        found["Prism 5.16 (prism mock)"] = (
            lambda port: [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(CONTRACT)],
            ENDPOINT.removeprefix("/api/v1"),
        )
    return found


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
