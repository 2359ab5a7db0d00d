"""Servers nobody here wrote, and servers that misbehave: every run ends in time, with a verdict.

Each run has a short per-request timeout and deadline; the test checks the exit code, that no
traceback was printed, the run's wall time, and that the JUnit parses with a strict XML parser
and the HAR validates against HAR 1.2.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from xml.dom import minidom

import httpx
import pytest

from conformance import contract
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.mock.servers import free_port
from tests.suite.har import har_errors
from tests.suite.misbehaving import CrashesMidRun, HangsUpOnMalformedJSON, NeverAnswersMalformedJSON, Slow

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "tools" / "node" / "node_modules" / ".bin" / "prism"
FAST = ["--mode", "full", "--max-rentals", "100000", "--examples", "30", "--timeout", "1"]


def run(base_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, float]:
    reports = tmp_path / "reports"
    started = time.monotonic()
    code = main(["--base-url", base_url, "--report-dir", str(reports), *args])
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    minidom.parseString((reports / "junit.xml").read_bytes())  # strict: raises on anything ill-formed
    har = json.loads((reports / "exchanges.har").read_text(encoding="utf-8"))
    assert har_errors(har) == []
    assert all(entry["startedDateTime"] > "2020" for entry in har["log"]["entries"])
    return code, captured.out, elapsed


def test_a_server_that_never_answers_malformed_json_is_not_conformant(credentials, tmp_path, capsys) -> None:
    with MockServer(NeverAnswersMalformedJSON()) as server:
        code, out, elapsed = run(server.origin + "/api/v1", tmp_path, capsys, *FAST, "--deadline", "60")
    assert code == 1, out
    assert "Violation 1: server_failures" in out
    assert "did not answer within 1 s" in out
    assert elapsed < 60


def test_a_server_that_hangs_up_is_not_conformant(credentials, tmp_path, capsys) -> None:
    with MockServer(HangsUpOnMalformedJSON()) as server:
        code, out, elapsed = run(server.origin + "/api/v1", tmp_path, capsys, *FAST, "--deadline", "60")
    assert code == 1, out
    assert "Violation 1: server_failures" in out
    assert "closed the connection" in out or "not valid HTTP" in out
    assert elapsed < 60


def test_a_slow_server_is_judged_until_the_deadline(credentials, tmp_path, capsys) -> None:
    with MockServer(Slow()) as server:
        code, out, elapsed = run(server.origin + "/api/v1", tmp_path, capsys, *FAST, "--deadline", "8")
    assert code == 0, out
    assert "the run stopped early: the run's deadline was reached" in out
    assert elapsed < 8 + 10  # the deadline, plus the requests already under way and the reports


def test_a_server_that_crashes_mid_run_stops_the_run_with_a_verdict(credentials, tmp_path, capsys) -> None:
    app = CrashesMidRun()
    with MockServer(app) as server:

        def stop() -> None:
            server.server.should_exit = True

        app.stop = stop
        code, out, elapsed = run(server.origin + "/api/v1", tmp_path, capsys, *FAST, "--deadline", "60")
    assert code == 1, out
    assert "the server stopped answering" in out
    assert elapsed < 60


def test_a_wrong_base_path_is_exit_2_with_a_hint(credentials, tmp_path, capsys) -> None:
    from conformance.mock import build

    with MockServer(build()) as server:
        code = main(["--base-url", server.origin + "/api/v2", "--report-dir", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Is the base URL right?" in err
    summary = (tmp_path / "summary.txt").read_text()
    assert "CANNOT TEST" in summary
    minidom.parseString((tmp_path / "junit.xml").read_bytes())
    # The one request that showed it is reported, in the summary and the HAR.
    assert "Requests: 1 sent" in summary
    (entry,) = json.loads((tmp_path / "exchanges.har").read_text())["log"]["entries"]
    assert (entry["request"]["url"], entry["response"]["status"]) == (
        server.origin + "/api/v2/phone_number/request/internal/", 404,
    )  # fmt: skip


@pytest.fixture(scope="module")
def prism():
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `make setup` (tools/node)")
    port = free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(contract.contract_path())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(origin + "/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.25)
        else:
            pytest.fail("Prism did not start within 60 s")
        yield origin  # Prism serves the paths without the server URL's /api/v1
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_prisms_mock_is_not_conformant_and_the_summary_names_the_static_body(
    prism: str, credentials, tmp_path, capsys
) -> None:
    args = ["--mode", "full", "--max-rentals", "40", "--examples", "20", "--timeout", "2", "--deadline", "120"]
    code, out, elapsed = run(prism, tmp_path, capsys, *args)
    assert code == 1, out
    screen = "\n".join(out.splitlines()[:40])  # the verdict and its root cause fit on one screen
    assert "Fix first:" in screen
    assert "static_rental_body" in screen
    assert "Rentals: 40" in out  # the hard cap held
    assert elapsed < 120


def test_prisms_mock_in_safe_mode_costs_at_most_the_one_number_the_readme_warns_of(
    prism: str, credentials, tmp_path, capsys
) -> None:
    # Prism answers 201 even for a country without numbers: the residual risk safe mode states.
    code, out, elapsed = run(prism, tmp_path, capsys, "--mode", "safe", "--examples", "20", "--timeout", "2")
    assert code == 1, out
    assert "Rentals: 1" in out
    assert "a rental happened in safe mode; no further POST is sent" in out
    assert elapsed < 120
