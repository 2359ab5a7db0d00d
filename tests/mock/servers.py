"""Run `close-mock serve` as a real subprocess on a free loopback port (for restart and worker tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Running:
    """A started mock: its origin, process and, once stopped, what it printed."""

    def __init__(self, origin: str, process: subprocess.Popen[str]) -> None:
        self.origin, self.process = origin, process
        self.out = self.err = ""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.origin, self))


@contextlib.contextmanager
def mock_process(*args: str, port: int | None = None, kill: bool = False) -> Iterator[Running]:
    """Start the mock, wait until it answers, yield it, then stop it (SIGKILL if asked)."""
    port = port or free_port()
    command = [sys.executable, "-m", "conformance.mock.cli", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    origin = f"http://127.0.0.1:{port}"
    running = Running(origin, process)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(origin + "/__mock__/accounts", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mock did not start: {process.communicate()}") from None
                time.sleep(0.05)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            running.out, running.err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            running.out, running.err = process.communicate()


def scenario_with_budget(tmp_path: Path, budget: float) -> Path:
    """A scenario: the default one with the admin organization's budget set to `budget` dollars."""
    from importlib import resources

    text = resources.files("conformance.mock.scenarios").joinpath("default.yaml").read_text("utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace("budget: 5000000.00", f"budget: {budget:.2f}"), encoding="utf-8")
    return path
