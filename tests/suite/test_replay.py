"""`close-conformance replay` on recordings made by real recorders, nobody here wrote.

vcrpy (YAML and JSON), pytest-recording (a folder of cassettes), schemathesis' own cassettes,
and our own HAR: each recorded while a real client (the generated client, the official
`closeio` client, `schemathesis run`) called the faithful mock or a faulty server. The
verdicts must be right, and replay must open no connection at all.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import vcr
import yaml

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.apps import Gzipped, traffic
from tests.suite.faulty import FAULTS, FaultyServer

ROOT = Path(__file__).resolve().parents[2]
BY_NAME = {fault.name: fault for fault in FAULTS}


def record_vcr(server_app, cassette: Path, serializer: str = "yaml") -> None:
    recorder = vcr.VCR(serializer=serializer, filter_headers=["authorization"])
    with MockServer(server_app) as server, recorder.use_cassette(str(cassette)):
        traffic(server.origin + "/api/v1")


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("replay opened a network connection")


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `close-conformance replay` with every way of opening a connection blocked."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse)
        patch.setattr(socket.socket, "connect_ex", _refuse)
        patch.setattr(socket, "create_connection", _refuse)
        code = main(["replay", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "replay opened a network connection" not in captured.out + captured.err
    return code, captured.out + captured.err


@pytest.mark.parametrize("serializer", ["yaml", "json"])
def test_a_vcrpy_cassette_of_the_faithful_mock_is_conformant(tmp_path, capsys, serializer) -> None:
    cassette = tmp_path / f"app.{serializer}"
    record_vcr(build(), cassette, serializer)
    code, out = replay(capsys, str(cassette))
    assert code == 0, out
    assert "Result: CONFORMANT" in out
    assert "with other endpoints skipped" in out
    assert "1 with other endpoints skipped" in out
    assert "rented phon_" in out


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("omits a required field", "response_schema_conformance"),
        ("answers 200 instead of 201", "status_code_conformance"),
        ("rents in the wrong country", "rented_number_in_requested_country"),
        ("answers an error as text/plain", "content_type_conformance"),
        ("hands out the same id twice", "rentals_are_distinct_and_stable"),
    ],
)
def test_a_vcrpy_cassette_of_a_faulty_server_names_the_violation(tmp_path, capsys, fault, check) -> None:
    cassette = tmp_path / "faulty.yaml"
    record_vcr(FaultyServer(BY_NAME[fault]), cassette)
    code, out = replay(capsys, str(cassette))
    assert code == 1, out
    assert f": {check}" in out


def test_gzipped_answers_recorded_by_vcrpy_are_read_as_the_app_read_them(tmp_path, capsys) -> None:
    # vcrpy keeps httpx's compressed bytes (as !!binary) but requests' decoded text, both under
    # Content-Encoding: gzip; either must be judged as the JSON the app saw.
    from closeio_api import API

    httpx_cassette, requests_cassette = tmp_path / "httpx.yaml", tmp_path / "requests.yaml"
    with MockServer(Gzipped(build())) as server:  # one server: two would hand out the same numbers
        with vcr.use_cassette(str(httpx_cassette), filter_headers=["authorization"]):
            traffic(server.origin + "/api/v1")
        with vcr.use_cassette(str(requests_cassette), filter_headers=["authorization"]):
            API(server.origin + "/api/v1/", api_key="mock_admin_key").post(
                "phone_number/request/internal", data={"country": "US"}
            )
    assert "!!binary" in httpx_cassette.read_text()
    assert "!!binary" not in requests_cassette.read_text()
    code, out = replay(capsys, str(httpx_cassette), str(requests_cassette))
    assert code == 0, out
    assert "Rentals: 3" in out


def test_the_official_closeio_client_recorded_with_vcrpy(tmp_path, capsys) -> None:
    from closeio_api import API, APIError

    cassette = tmp_path / "closeio.yaml"
    with MockServer(build()) as server, vcr.use_cassette(str(cassette), filter_headers=["authorization"]):
        api = API(server.origin + "/api/v1/", api_key="mock_admin_key")
        api.post("phone_number/request/internal", data={"country": "US", "prefix": "415"})
        with pytest.raises(APIError):
            api.post("phone_number/request/internal", data={"country": "US", "prefix": "1234567"})
    code, out = replay(capsys, str(cassette))
    assert code == 0, out
    assert "2 with the endpoint judged" in out


def test_an_older_vcrpy_cassette_with_content_bodies(tmp_path, capsys) -> None:
    cassette = tmp_path / "old.yaml"
    record_vcr(build(), cassette)
    document = yaml.safe_load(cassette.read_text())
    for interaction in document["interactions"]:
        interaction["response"]["content"] = interaction["response"].pop("body")["string"]
    cassette.write_text(yaml.safe_dump(document))
    code, out = replay(capsys, str(cassette))
    assert code == 0, out
    assert "rented phon_" in out


def test_a_pytest_recording_folder(tmp_path, capsys) -> None:
    with MockServer(build()) as server:
        (tmp_path / "test_app.py").write_text(
            textwrap.dedent(
                f"""
                import pytest
                from tests.suite.apps import Gzipped, traffic

                @pytest.mark.vcr
                def test_rents():
                    traffic("{server.origin}/api/v1")

                @pytest.mark.vcr
                def test_rents_again():
                    traffic("{server.origin}/api/v1")
                """
            )
        )
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--record-mode=once", "-p", "no:cacheprovider", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "cassettes"
    assert len(list(folder.rglob("*.yaml"))) == 2
    code, out = replay(capsys, str(folder))
    assert code == 0, out
    assert "Exchanges: 12 recorded" in out
    assert "Warning: 12 exchange(s) carry a credential" in out  # pytest-recording keeps Authorization unless told
    assert "mock_admin_key" not in out
    assert main(["replay", "--fail-on-credentials", str(folder)]) == 1
    assert "credentials_in_recording" in capsys.readouterr().out


def test_a_schemathesis_cassette(tmp_path, capsys) -> None:
    with MockServer(build()) as server:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run", str(contract.contract_path()),
             "--url", server.origin + "/api/v1", "--max-examples", "5", "--phases", "examples,fuzzing",
             "--report", "vcr,har", "--report-dir", str(tmp_path), "--auth", "mock_admin_key:"],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
    cassettes = list(tmp_path.glob("*.yaml"))
    hars = list(tmp_path.glob("har-*.json"))
    assert cassettes, done.stdout + done.stderr
    assert hars, done.stdout + done.stderr
    code, out = replay(capsys, *map(str, cassettes))
    assert code == 0, out
    assert "with the endpoint judged" in out
    # The whole folder: its HAR report too, not schemathesis' hidden cache, and a stray file skipped.
    assert (tmp_path / ".schemathesis").is_dir()
    (tmp_path / "notes.json").write_text('{"not": "a recording"}')
    code, out = replay(capsys, str(tmp_path))
    assert code == 0, out
    assert "file(s) skipped in part or whole while reading" in out
    assert "notes.json: not a recording" in out
    assert f"exchange(s) as {hars[0].name}, judged once" in out  # the run's cassette holds what its HAR does
    assert ".schemathesis" not in out


def test_our_own_har_replays_to_the_live_verdict(tmp_path, capsys, credentials) -> None:
    live = tmp_path / "live"
    with MockServer(FaultyServer(BY_NAME["omits a required field"])) as server:
        live_code = main(["--base-url", server.origin + "/api/v1", "--mode", "full", "--max-rentals", "1000",
                          "--examples", "20", "--quiet", "--report-dir", str(live)])  # fmt: skip
    capsys.readouterr()
    code, out = replay(capsys, str(live / "exchanges.har"))
    assert live_code == code == 1
    assert ": response_schema_conformance" in out
    # Its probes' made-up credentials (conformance-unknown-key, ...) are no secret: no warning about them.
    assert "carry a credential" not in out
    assert (
        "conformance-unknown-key" in (live / "exchanges.har").read_text()
        or "Y29uZm9ybWFuY2U" in (live / "exchanges.har").read_text()
    )


def test_a_file_that_is_no_recording_is_exit_2(tmp_path, capsys) -> None:
    junk = tmp_path / "notes.json"
    junk.write_text(json.dumps({"hello": "world"}))
    code, out = replay(capsys, str(junk), "--report-dir", str(tmp_path / "r"))
    assert code == 2
    assert "not a recording this tool reads" in out
    assert (tmp_path / "r" / "junit.xml").exists()


def test_a_folder_with_nothing_judgeable_says_what_it_skipped_and_why(tmp_path, capsys) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "broken.har").write_text(json.dumps({"log": {"entries": [{"request": 1}]}}))
    (folder / "cancelled.yaml").write_text(yaml.safe_dump({"interactions": [{"request": {
        "method": "POST", "uri": "http://127.0.0.1:1/api/v1/phone_number/request/internal/"}}]}))  # fmt: skip
    code, out = replay(capsys, str(folder))
    assert code == 2
    result = next(line for line in out.splitlines() if line.startswith("Result:"))
    assert "1 recorded without an answer" in result
    assert "1 file(s) skipped: " in result
    assert "broken.har: HAR entry 1 is damaged" in result
    assert "1 without an answer" in out  # the Exchanges line counts it too
    (folder / "cancelled.yaml").unlink()
    (folder / "no_url.yaml").write_text(yaml.safe_dump({"interactions": [{"request": {}}]}))
    code, out = replay(capsys, str(folder))
    assert code == 2
    assert "no recordings found in" in out
    assert "no_url.yaml: cassette interaction 1 is damaged" in out


def test_a_reader_that_stops_early_gets_no_traceback_and_the_reports_are_written(tmp_path) -> None:
    # `close-conformance replay ... | head -1`: the summary meets a closed pipe.
    cassette = tmp_path / "faulty.yaml"
    record_vcr(FaultyServer(BY_NAME["rents in the wrong country"]), cassette)
    command = [str(Path(sys.executable).parent / "close-conformance"), "replay", str(cassette),
               "--report-dir", str(tmp_path / "r")]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()  # what `head` does once it has read enough: the summary meets a closed pipe
        errors = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert "Traceback" not in errors, errors
    assert code == 1  # the verdict, not a crash
    assert json.loads((tmp_path / "r" / "report.json").read_text())["violations"]


def _rent_with(base_url: str, keys: list[str]) -> None:
    from close_phone_numbers_client import AuthenticatedClient
    from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
    from close_phone_numbers_client.models import PhoneNumberRequest

    for key in keys:
        with AuthenticatedClient.from_api_key(base_url, key) as client:
            answer = request_internal_phone_number.sync_detailed(client=client, body=PhoneNumberRequest(country="US"))
            assert answer.status_code == 201


@pytest.mark.parametrize("keep_credentials", [False, True])
def test_a_recording_of_two_keys_is_not_one_unstable_owner(tmp_path, capsys, keep_credentials) -> None:
    # An admin and a member of one organization each rent for themselves: two owners, two credentials.
    cassette = tmp_path / "two-keys.yaml"
    recorder = vcr.VCR(filter_headers=[] if keep_credentials else ["authorization"])
    with MockServer(build()) as server, recorder.use_cassette(str(cassette)):
        _rent_with(server.origin + "/api/v1", ["mock_admin_key", "mock_member_key", "mock_admin_key"])
    code, out = replay(capsys, str(cassette))
    assert code == 0, out
    assert "mock_admin_key" not in out


def test_with_credentials_kept_an_owner_that_changes_under_one_key_is_caught(tmp_path, capsys) -> None:
    cassette = tmp_path / "unstable.yaml"
    recorder = vcr.VCR(filter_headers=[])
    with (
        MockServer(FaultyServer(BY_NAME["a different owner every time"])) as server,
        recorder.use_cassette(str(cassette)),
    ):
        _rent_with(server.origin + "/api/v1", ["mock_admin_key"] * 3)
    code, out = replay(capsys, str(cassette))
    assert code == 1, out
    assert ": rentals_are_distinct_and_stable" in out
    assert "basic #" in out  # the credential named by a fingerprint, never the key
    assert "mock_admin_key" not in out


def test_a_report_path_that_is_a_file_is_exit_2_with_one_line(tmp_path, capsys) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    cassette = tmp_path / "app.yaml"
    record_vcr(build(), cassette)
    code, out = replay(capsys, str(cassette), "--report-dir", str(taken))
    assert code == 2
    assert "is a file, not a directory" in out
    assert taken.read_text() == "not a folder"


RECORDINGS = Path(__file__).parent / "recordings"


def test_a_har_written_by_mitmproxy_is_read_and_judged(capsys) -> None:
    code, out = replay(capsys, str(RECORDINGS / "mitmproxy-faithful.har"))
    assert code == 0, out
    assert "Exchanges: 6 recorded; 5 with the endpoint judged, 1 with other endpoints skipped" in out
    assert "carry a credential" in out  # mitmproxy keeps Authorization: a warning, and redacted everywhere
    code, out = replay(capsys, str(RECORDINGS / "mitmproxy-wrong-country.har"))
    assert code == 1, out
    assert "Violation 1: rented_number_in_requested_country: country (4 cases)" in out
    assert out.count("\nViolation ") == 2  # one per cause: the country, and the prefix it dropped
