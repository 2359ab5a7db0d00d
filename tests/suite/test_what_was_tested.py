"""Say what was tested: could-not-test is exit 2 in every front-end, counts count, coverage, every answer judged.

Each case is one a user met (issue 19): wrong credentials read as the server's fault, a proxy that
said CONFORMANT when nothing worked, counts of checks that judged nothing, 429s never judged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
import vcr

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.apps import traffic
from tests.suite.faulty import Answer, Fault, FaultyServer
from tests.suite.har import har_errors

FULL = ["--mode", "full", "--max-rentals", "100000", "--quiet", "--examples", "20"]
RENT = "/phone_number/request/internal/"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


# -- could not test: exit 2 with one line saying why ----------------------------------------------


def test_credentials_refused_everywhere_is_exit_2_and_says_check_your_credentials(
    monkeypatch, tmp_path, capsys
) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "a-wrong-key")
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", "a-wrong-token")
    with MockServer(build()) as mock:
        code, out, err = run(capsys, "--base-url", mock.origin + "/api/v1", "--quiet", "--examples", "20",
                             "--report-dir", str(tmp_path))  # fmt: skip
    assert code == 2, out
    expected = (
        "close-conformance: cannot test: every request with credentials was refused as unauthenticated (401): "
        "check CLOSE_API_KEY / CLOSE_BEARER_TOKEN; nothing about the endpoint could be tested"
    )
    assert err.strip().splitlines() == [expected]
    assert "NOT CONFORMANT" not in out
    record = json.loads((tmp_path / "report.json").read_text())
    assert record["result"] == "cannot test"
    assert record["violations"] == []
    junit = ET.parse(tmp_path / "junit.xml").getroot()  # noqa: S314 - our own file
    assert junit.get("errors") == "1"
    # What was sent before it stopped is reported: the refusals that show why (not "0 sent", an empty HAR).
    sent = record["requests"]["exchanges"]
    assert sent == record["requests"]["probes"] > 10, record["requests"]
    assert f"Requests: {sent} sent" in out
    har = json.loads(next(tmp_path.glob("*.har")).read_text())
    assert len(har["log"]["entries"]) == sent
    assert any(entry["response"]["status"] == 401 for entry in har["log"]["entries"])


def test_one_scheme_refused_while_the_other_works_is_a_finding_not_silence(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "mock_admin_key")
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", "an-expired-token")
    with MockServer(build()) as mock:
        code, out, _err = run(capsys, "--base-url", mock.origin + "/api/v1", "--quiet", "--examples", "20",
                              "--report-dir", str(tmp_path))  # fmt: skip
    assert code == 1, out
    assert "authentication: bearer credentials refused" in out
    # Its example is a refusal of the user's own token, not of a probe's deliberately unknown one.
    record = json.loads((tmp_path / "report.json").read_text())
    (finding,) = [v for v in record["violations"] if v["key"] == "authentication: bearer credentials refused"]
    assert finding["examples"][0]["probe"] == "OAuth token (Bearer) is accepted"


def _through_proxy(upstream: str, *argv: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "proxy", "--upstream", upstream, "--port", "0", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    origin = line.split("listening on ")[1].split(",")[0]
    return process, origin, line


def _stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.mark.parametrize("app_base", ["", "/api/v1"], ids=["origin only", "with /api/v1"])
def test_the_proxy_takes_the_apps_base_url_either_way(tmp_path, app_base: str) -> None:
    with MockServer(build()) as upstream:
        process, origin, started = _through_proxy(upstream.origin + "/api/v1", "--report-dir", str(tmp_path))
        try:
            traffic(origin + app_base)
        finally:
            code, out, err = _stop(process)
    assert code == 0, out + err
    record = json.loads((tmp_path / "report.json").read_text())
    assert record["requests"]["business_reached"] > 0
    assert f"give your app the base URL {origin}/api/v1 (or {origin})" in started


def test_a_recording_whose_every_call_met_the_router_404_cannot_test(tmp_path, capsys) -> None:
    # An app that kept /api/v1 in its base URL and a client that added it again: /api/v1/api/v1/...
    cassette = tmp_path / "doubled.yaml"
    with MockServer(build()) as server, vcr.use_cassette(str(cassette), filter_headers=["authorization"]):
        traffic(server.origin + "/api/v1/api/v1")
    code, out, err = run(capsys, "replay", str(cassette))
    assert code == 2, out
    assert "without the contract's refusal body (base path /api/v1/api/v1): is the endpoint there?" in err


def test_todays_client_through_the_proxy_to_a_seed_era_server_is_not_conformant(tmp_path) -> None:
    with MockServer(build(generation="seed")) as upstream:
        process, origin, _ = _through_proxy(upstream.origin + "/api/v1", "--report-dir", str(tmp_path))
        try:
            traffic(origin + "/api/v1")  # today's client: no sharing
        finally:
            code, out, err = _stop(process)
    assert code == 1, out + err
    assert "valid_request_accepted: refused: field-errors sharing" in out


def test_the_proxys_failures_to_reach_the_upstream_are_server_failures(tmp_path) -> None:
    from tests.mock.servers import free_port

    process, origin, _ = _through_proxy(f"http://127.0.0.1:{free_port()}/api/v1", "--report-dir", str(tmp_path))
    try:
        answers = [httpx.post(origin + "/api/v1" + RENT, json={"country": "US"}, timeout=10) for _ in range(3)]
    finally:
        code, out, err = _stop(process)
    assert {answer.status_code for answer in answers} == {502}
    assert code == 1, out + err
    assert "Violation 1: server_failures: connect" in out


# -- counts that count ------------------------------------------------------------------------


@pytest.mark.usefixtures("credentials")
def test_in_safe_mode_checks_of_rented_numbers_judge_nothing_and_say_so(tmp_path, capsys) -> None:
    with MockServer(build()) as mock:
        code, out, _ = run(capsys, "--base-url", mock.origin + "/api/v1", "--mode", "safe", "--quiet",
                           "--examples", "20", "--report-dir", str(tmp_path))  # fmt: skip
    assert code == 0, out
    record = json.loads((tmp_path / "report.json").read_text())
    for name in ("rented_number_in_requested_country", "rented_number_dates", "rentals_are_distinct_and_stable"):
        assert record["checks"][name] == {**record["checks"][name], "judged": 0, "status": "not exercised"}
    junit = ET.parse(tmp_path / "junit.xml").getroot()  # noqa: S314 - our own file
    skipped = {case.get("name") for case in junit.iter("testcase") if case.find("skipped") is not None}
    assert "rented_number_in_requested_country" in skipped
    assert any((name or "").startswith("missing required country") for name in skipped)  # "Not checked" is a skip too


@pytest.mark.usefixtures("credentials")
def test_a_capped_runs_har_holds_only_what_was_sent_and_replays_to_the_same_count(tmp_path, capsys) -> None:
    with MockServer(build()) as mock:
        code, out, _ = run(capsys, "--base-url", mock.origin + "/api/v1", "--mode", "full", "--max-rentals", "3",
                           "--quiet", "--examples", "20", "--report-dir", str(tmp_path / "run"))  # fmt: skip
    assert code == 0, out
    record = json.loads((tmp_path / "run" / "report.json").read_text())
    assert record["requests"]["held_back"] > 50  # the cap held most rentals back ...
    har = json.loads((tmp_path / "run" / "exchanges.har").read_text())
    assert har_errors(har) == []
    assert len(har["log"]["entries"]) == record["requests"]["exchanges"]  # ... and none of them is in the HAR
    assert all(entry["response"]["status"] for entry in har["log"]["entries"])
    code, out, _ = run(capsys, "replay", str(tmp_path / "run" / "exchanges.har"), "--report-dir", str(tmp_path / "re"))
    replayed = json.loads((tmp_path / "re" / "report.json").read_text())
    assert replayed["requests"]["exchanges"] == record["requests"]["exchanges"]


# -- every answer judged, 429 included ----------------------------------------------------------


def _hintless_429(body: object, answer: Answer) -> Answer:
    return 429, {"content-type": "application/json"}, b'{"error": {"message": "slow down"}}'


class EveryFifthRateLimited(FaultyServer):
    """The mock, but every fifth rental is answered 429 without RateLimit, Retry-After or rate_reset."""

    count = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            type(self).count += 1
            self.fault = Fault("429", "", answer=_hintless_429 if self.count % 5 == 0 else None)
        await super().__call__(scope, receive, send)


@pytest.mark.usefixtures("credentials")
def test_a_429_without_any_hint_is_judged_and_is_a_finding(capsys) -> None:
    with MockServer(EveryFifthRateLimited(Fault("429", ""))) as mock:
        started = time.monotonic()
        code, out, _ = run(capsys, "--base-url", mock.origin + "/api/v1", *FULL)
        elapsed = time.monotonic() - started
    assert code == 1, out
    assert "rate_limit_answer: no wait given" in out
    assert "response_headers_conformance: 429 RateLimit: missing" in out
    assert "response_schema_conformance: 429 RateLimited error/rate_reset: required" in out or "429 RateLimited" in out
    assert elapsed < 120


class AlwaysRateLimited(FaultyServer):
    """The mock, but every rental is answered 429 without any hint of when to retry."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            self.fault = Fault("429", "", answer=_hintless_429)
        await super().__call__(scope, receive, send)


@pytest.mark.usefixtures("credentials")
def test_a_server_that_always_answers_429_without_a_hint_is_not_waited_on_for_long(capsys) -> None:
    with MockServer(AlwaysRateLimited(Fault("429", ""))) as mock:
        started = time.monotonic()
        code, out, _ = run(
            capsys, "--base-url", mock.origin + "/api/v1", "--mode", "safe", "--quiet", "--examples", "20"
        )
        elapsed = time.monotonic() - started
    assert code == 1, out
    assert "rate_limit_answer: no wait given" in out
    assert "said nothing of when to retry" in out
    assert elapsed < 30


# -- coverage, and the gate ---------------------------------------------------------------------


def _cassette(tmp_path: Path) -> Path:
    cassette = tmp_path / "app.yaml"
    with MockServer(build()) as server, vcr.use_cassette(str(cassette), filter_headers=["authorization"]):
        traffic(server.origin + "/api/v1")
    return cassette


def test_a_replay_reports_what_its_traffic_never_exercised(tmp_path, capsys) -> None:
    code, out, _ = run(capsys, "replay", str(_cassette(tmp_path)), "--report-dir", str(tmp_path / "r"))
    assert code == 0, out
    assert "Coverage of the contract:" in out
    assert "never: rent:401" in out or "rent:401" in out.split("documented status codes:")[1].splitlines()[0]
    record = json.loads((tmp_path / "r" / "report.json").read_text())
    statuses = record["coverage"]["groups"]["status"]["items"]
    assert statuses["status:rent:201"]["count"] == 2
    assert statuses["status:rent:429"]["count"] == 0
    assert record["coverage"]["groups"]["enum"]["items"]["enum:sharing=group"]["count"] == 0


def test_the_coverage_gate_refuses_an_under_covered_replay_and_lists_the_gap(tmp_path, capsys) -> None:
    cassette = _cassette(tmp_path)
    code, out, _ = run(capsys, "replay", str(cassette), "--require-coverage", "status:rent:429,refusal:*")
    assert code == 1, out
    assert "Short of --require-coverage:" in out
    assert "status:rent:429 was never exercised" in out
    assert "refusal:billing-error was never exercised" in out
    code, out, _ = run(capsys, "replay", str(cassette), "--require-coverage", "95%")
    assert code == 1
    assert "below the 95% required" in out
    code, out, _ = run(capsys, "replay", str(cassette), "--require-coverage", "status:rent:201")
    assert code == 0, out
    code, _, err = run(capsys, "replay", str(cassette), "--require-coverage", "status:rent:299")
    assert code == 2
    assert "no coverage item is called that" in err


def test_messages_are_in_the_projects_own_words(capsys) -> None:
    def yes(_body: object, answer: Answer) -> Answer:
        return answer[0], answer[1], answer[2].replace(b'"sms_enabled":true', b'"sms_enabled":"yes"')

    server = FaultyServer(Fault("yes for true", "", answer=yes))
    with MockServer(server) as mock, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOSE_API_KEY", "mock_admin_key")
        code, out, _ = run(capsys, "--base-url", mock.origin + "/api/v1", *FULL)
    assert code == 1
    assert "Custom check failed" not in out
    assert "response_schema_conformance: 201 PhoneNumber sms_enabled: type" in out
    assert contract.today().version in out


def test_an_app_behind_the_proxy_with_the_wrong_base_path_cannot_test_and_is_told_why(tmp_path) -> None:
    # The app was given the proxy's address with /v1, not /api/v1: every call met the upstream's router.
    with MockServer(build()) as upstream:
        process, origin, _ = _through_proxy(upstream.origin + "/api/v1", "--report-dir", str(tmp_path))
        try:
            traffic(origin + "/v1")
        finally:
            code, out, err = _stop(process)
    assert code == 2, out + err
    assert "NOT CONFORMANT" not in out
    assert "under another base path (/api/v1/v1)" in err
    assert "give the app the proxy's address, with or without /api/v1" in err


def test_the_endpoints_own_url_as_the_base_url_is_a_usage_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "mock_admin_key")
    code, _out, err = run(capsys, "--base-url", "http://127.0.0.1:9/api/v1/phone_number/request/internal/")
    assert code == 2
    expected = (
        "close-conformance: --base-url is the API's base, not the endpoint: "
        "http://127.0.0.1:9/api/v1, not http://127.0.0.1:9/api/v1/phone_number/request/internal/"
    )
    assert err.strip().splitlines() == [expected]


def test_a_base_url_one_level_off_is_exit_2_before_anything_is_rented(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "mock_admin_key")
    app = build()
    with MockServer(app) as mock:
        code, out, err = run(capsys, "--base-url", mock.origin + "/api", *FULL)
    assert code == 2, out
    assert "answered 404: the endpoint is not there. Is the base URL right?" in err
    assert app.store.rentals() == []
