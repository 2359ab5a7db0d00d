"""The suite tests itself: it exits 1 on every faulty server and 0 on the faithful mock."""

from __future__ import annotations

import pytest

from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.faulty import FAULTS, Fault, FaultyServer

# user_mockMember is a member of the default scenario's organization: valid requests may assign to it.
ARGS = ["--mode", "full", "--max-rentals", "100000", "--quiet", "--examples", "60", "--assignee", "user_mockMember"]


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_every_faulty_server_is_caught(fault: Fault, capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(FaultyServer(fault)) as server:
        code = main(["--base-url", server.origin + "/api/v1", *ARGS])
    output = capsys.readouterr().out
    assert code == 1, f"{fault.name} was not caught:\n{output}"
    assert "NOT CONFORMANT" in output
    assert f": {fault.expect}" in output, f"{fault.name} was not reported by {fault.expect}:\n{output}"
    assert "request:  curl" in output


@pytest.mark.usefixtures("credentials")
def test_the_faithful_mock_over_a_base_url_is_conformant(capsys: pytest.CaptureFixture[str]) -> None:
    with MockServer(build()) as server:
        code = main(["--base-url", server.origin + "/api/v1", *ARGS])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "Result: CONFORMANT" in output


def _new_status(_body: object, answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], bytes]:
    import json

    status, headers, raw = answer
    body = json.loads(raw)
    if status == 400 and body.get("status") == "has-voice-only":
        body["status"] = "voice-only-numbers"  # a value Close might add tomorrow
    return status, headers, json.dumps(body).encode()


@pytest.mark.usefixtures("credentials")
def test_a_status_value_the_contract_does_not_know_is_a_drift_warning_not_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fault = Fault("new status value", "refusal_explains_itself", answer=_new_status)
    with MockServer(FaultyServer(fault)) as server:
        code = main(["--base-url", server.origin + "/api/v1", *ARGS])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "Drift warning: status 'voice-only-numbers' is not in the contract yet" in output
