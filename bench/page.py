"""The HTML report in a real browser: the page of a 10,000-exchange replay, its size and how fast it opens.

The job records a HAR of 10,000 exchanges (`traffic.recorded_har`), replays it with
`close-conformance replay --report-dir` as a user would, and opens the report.html it wrote in
headless Chromium (Debian's package) several times: the size in bytes, and the seconds from the
navigation to the page loaded and painted. Until `report.json` carries a timeline of its own, the
same record is also rendered with one built from the HAR, the way a run's record will carry it,
so the figure covers the timeline's cost too.

`Chromium` is the browser both this job and the tests drive: the DevTools protocol over a pipe
(`--remote-debugging-pipe`: no port, no driver, no package), collecting every request the page
makes and every console error.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from bench.traffic import REPLAY_EXCHANGES, SMOKE_EXCHANGES, recorded_har

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.harness import Settings

CHROMIUM = Path("/usr/bin/chromium")
# No background traffic of Chromium's own: this machine's network is closed and the page must need none.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-pipe",
)  # fmt: skip
PIPE_IN, PIPE_OUT = 3, 4  # the descriptors Chromium reads commands from and writes answers to
MAX_BYTES = 5_000_000
MAX_OPEN_SECONDS = 2.0
PAINTED = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


class BrowserError(RuntimeError):
    """Chromium could not be started, stopped answering, or refused a command."""


@dataclass
class Opened:
    """What opening a page saw: how long it took, every request it made, every error it logged."""

    url: str
    seconds: float
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # URL -> why Chromium refused to send it ("csp")


class Chromium:
    """Headless Chromium, one page at a time, driven over the DevTools protocol on a pipe."""

    def __init__(self, executable: Path = CHROMIUM, *, width: int = 1280, height: int = 900) -> None:
        self.executable, self.width, self.height = executable, width, height
        self.profile = Path(tempfile.mkdtemp(prefix="close-conformance-chromium-"))
        self.pid = 0
        self.session: str | None = None
        self._target = ""
        self.events: list[dict[str, Any]] = []
        self._writer = self._reader = -1
        self._buffer = b""
        self._last_id = 0

    def __enter__(self) -> Self:
        if not self.executable.exists():
            raise BrowserError(f"{self.executable} is not installed (make test installs Debian's chromium)")
        commands_read, self._writer = os.pipe()
        self._reader, answers_write = os.pipe()
        # posix_spawn places the pipe ends on descriptors 3 and 4 without running Python in the child;
        # copies above 9 first, so placing one end cannot overwrite the other.
        ends = [fcntl.fcntl(descriptor, fcntl.F_DUPFD_CLOEXEC, 10) for descriptor in (commands_read, answers_write)]
        log = self.profile / "chromium.log"
        flags = [*FLAGS, f"--user-data-dir={self.profile}", f"--window-size={self.width},{self.height}", "about:blank"]
        try:
            self.pid = os.posix_spawn(
                str(self.executable),
                [str(self.executable), *flags],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT, 0o600),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                    *[
                        (os.POSIX_SPAWN_DUP2, end, target)
                        for end, target in zip(ends, (PIPE_IN, PIPE_OUT), strict=True)
                    ],
                ],
            )
        finally:
            for descriptor in (commands_read, answers_write, *ends):
                os.close(descriptor)
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask Chromium to quit, wait for it (killing it if it will not), and remove its profile."""
        if self.pid:
            with contextlib.suppress(BrowserError, OSError):  # it may have gone already
                self.command("Browser.close", session=False, timeout=5)
            deadline = time.monotonic() + 10
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.05)
            self.pid = 0
        for descriptor in (self._writer, self._reader):
            if descriptor >= 0:
                os.close(descriptor)
        self._writer = self._reader = -1
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- the protocol ---------------------------------------------------------------------------

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._reader], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._reader, 1 << 20)
            if not chunk:
                log = (self.profile / "chromium.log").read_text(errors="replace")[-2000:]
                raise BrowserError(f"Chromium closed the DevTools pipe:\n{log}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        found: dict[str, Any] = json.loads(message)
        return found

    def command(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = True, timeout: float = 30
    ) -> dict[str, Any]:
        """Send one command (to the page, unless `session` is False) and return its result."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        """The first event of this name (already received, or the next to come)."""
        for index, seen in enumerate(self.events):
            if seen.get("method") == event:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("method") == event:
                return message
            self.events.append(message)

    # -- pages ----------------------------------------------------------------------------------

    def open(self, path: Path, *, timeout: float = 30) -> Opened:
        """Open a file in a new page; return once it is loaded and painted."""
        if self.session:
            self.command("Target.closeTarget", {"targetId": self._target}, session=False)
        self.events.clear()
        self._target = self.command("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        attached = self.command("Target.attachToTarget", {"targetId": self._target, "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.command(f"{domain}.enable")
        self.viewport(self.width, self.height)
        self.events.clear()
        url = path.resolve().as_uri()
        started = time.perf_counter()
        self.command("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired", timeout)
        self.evaluate(PAINTED)
        seconds = time.perf_counter() - started
        return Opened(url, seconds, self.requests(), self.errors(), self.blocked())

    def viewport(self, width: int, height: int, *, mobile: bool = False, scale: float = 1) -> None:
        """Lay the page out at this size (a phone: `mobile=True`)."""
        self.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.command(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def requests(self) -> list[str]:
        """Every URL the page asked for so far (the page itself included)."""
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def blocked(self) -> dict[str, str]:
        """The requests Chromium refused to send (the page's Content-Security-Policy, say), with the reason."""
        urls = {
            event["params"]["requestId"]: event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        }
        return {
            urls.get(event["params"]["requestId"], "?"): event["params"]["blockedReason"]
            for event in self.events
            if event.get("method") == "Network.loadingFailed" and event["params"].get("blockedReason")
        }

    def errors(self) -> list[str]:
        """Every error the page logged so far: exceptions, console errors, refused loads, CSP violations."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(
                    "console: "
                    + " ".join(str(arg.get("value", arg.get("description"))) for arg in params.get("args", []))
                )
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}".strip())
        return found

    def screenshot(self, path: Path, *, full_page: bool = False) -> None:
        """A PNG of the viewport (or of the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.command("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params |= {"captureBeyondViewport": True, "clip": clip}
        path.write_bytes(base64.b64decode(self.command("Page.captureScreenshot", params)["data"]))


# -- a timeline for a record that has none ------------------------------------------------------


def har_timeline(har: Path, started: str) -> list[list[Any]]:
    """Timeline rows as `report.record` is to carry them, from a HAR (which knows no 429 waits)."""
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    times = [dt.datetime.fromisoformat(entry["startedDateTime"]).timestamp() for entry in entries]
    # A replay starts after its recording: then the first recorded exchange is the origin.
    origin = min([dt.datetime.fromisoformat(started).timestamp(), *times])
    operations = {"POST": "rent", "GET": "read", "DELETE": "release"}
    rows: list[list[Any]] = []
    for at, entry in zip(times, entries, strict=True):
        status = entry["response"]["status"] or None
        method = entry["request"]["method"]
        failure = None if status else "no answer"
        rows.append([round(at - origin, 3), entry["time"], status, operations.get(method, method), 0, 0, failure])
    return rows


# -- the job ------------------------------------------------------------------------------------


def _open_times(pages: list[Path], repetitions: int) -> dict[str, dict[str, Any]]:
    measured: dict[str, dict[str, Any]] = {}
    with Chromium() as browser:
        for page in pages:
            timings = []
            for _ in range(repetitions):
                opened = browser.open(page)
                if opened.errors or any(url != opened.url for url in opened.requests):
                    raise RuntimeError(f"{page.name}: errors {opened.errors}, requests {opened.requests}")
                timings.append(opened.seconds)
            ordered = sorted(timings)
            measured[page.name] = {
                "bytes": page.stat().st_size,
                "open_seconds": {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1]},
            }
    return measured


def bench_page(settings: Settings, progress: Callable[[str], None]) -> dict[str, Any]:
    """Size and opening time of the HTML report of a replay of 10,000 exchanges."""
    from conformance.suite import html

    exchanges = SMOKE_EXCHANGES if settings.smoke else REPLAY_EXCHANGES
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        har, reports = folder / "traffic.har", folder / "reports"
        recorded_har(har, exchanges)
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "replay", str(har), "--report-dir", str(reports)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode not in (0, 1) or not (reports / "report.html").exists():
            raise RuntimeError(f"replay failed: {done.stdout[-500:]}{done.stderr[-500:]}")
        pages = [reports / "report.html"]
        record = json.loads((reports / "report.json").read_text(encoding="utf-8"))
        if not record.get("timeline"):
            record["timeline"] = har_timeline(reports / "exchanges.har", record["started"])
            pages.append(folder / "report-with-timeline.html")
            pages[-1].write_text(html.render(record), encoding="utf-8")
        measured = _open_times(pages, settings.repetitions)
    for name, figures in measured.items():
        seconds = figures["open_seconds"]
        progress(f"  {name}: {figures['bytes'] / 1e6:.2f} MB, opens in {seconds['min']:.2f}-{seconds['max']:.2f} s")
    return {
        "exchanges": exchanges,
        "pages": measured,
        "chromium": chromium_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def chromium_version() -> str:
    """What `chromium --version` says (empty when it is not installed)."""
    if not CHROMIUM.exists():
        return ""
    done = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split(" built on ")[0].strip()  # Debian adds "built on Debian GNU/Linux 12 (bookworm)"


def screenshot(report_dir: Path, output: Path, *, width: int = 1280, height: int = 900, mobile: bool = False) -> None:
    """`python -m bench.page REPORT_DIR PNG`: a PNG of the first screen of a report directory's report.html."""
    with Chromium(width=width, height=height) as browser:
        opened = browser.open(report_dir / "report.html")
        if opened.errors:
            raise RuntimeError(f"the page logged errors: {opened.errors}")
        if mobile:
            browser.viewport(width, height, mobile=True, scale=2)
            browser.evaluate(PAINTED)
        browser.screenshot(output)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.page", description=screenshot.__doc__)
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--mobile", action="store_true")
    arguments = parser.parse_args()
    screenshot(arguments.report_dir, arguments.output, width=arguments.width, height=arguments.height,
               mobile=arguments.mobile)  # fmt: skip
