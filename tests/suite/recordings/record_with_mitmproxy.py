"""Record the app's traffic through mitmproxy (a reverse proxy in front of the mock) as HAR files.

Run once from the repository root with mitmproxy on PATH (`pip install mitmproxy==11.0.2`):
`python -m tests.suite.recordings.record_with_mitmproxy`. The tests replay the files it wrote;
they do not run this script.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from conformance.mock import build
from conformance.mock.server import MockServer
from tests.mock.servers import free_port
from tests.suite.apps import traffic
from tests.suite.faulty import FAULTS, FaultyServer

HERE = Path(__file__).parent


def _listening(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError("mitmdump did not start")


def record(name: str, app: object) -> Path:
    """The HAR mitmproxy writes of `traffic()` against `app`."""
    out = HERE / f"{name}.har"
    with MockServer(app) as mock:
        port = free_port()
        command = ["mitmdump", "--mode", f"reverse:{mock.origin}/", "--listen-host", "127.0.0.1", "-p", str(port),
                   "--set", f"hardump={out}", "-q"]  # fmt: skip
        process = subprocess.Popen(command)
        _listening(port)
        traffic(f"http://127.0.0.1:{port}/api/v1")
        process.terminate()
        process.wait(timeout=30)
    return out


if __name__ == "__main__":
    wrong_country = next(fault for fault in FAULTS if fault.name == "rents in the wrong country")
    for written in (
        record("mitmproxy-faithful", build()),
        record("mitmproxy-wrong-country", FaultyServer(wrong_country)),
    ):
        print(written, written.stat().st_size)
