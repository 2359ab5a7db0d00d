"""Live safety, proven against a server that rents on every request."""

from __future__ import annotations

import json

import pytest

from conformance import contract
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from conformance.suite.guard import basic
from tests.suite.recording import RecordingServer

KEY = "canary_key_4b1d0c5e"
TOKEN = "canary_token_9f8e7d6c"
REAL = {basic(KEY), f"Bearer {TOKEN}"}


def contract_valid(body: bytes) -> bool:
    try:
        return bool(contract.request_validator().is_valid(json.loads(body)))
    except ValueError:
        return False


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLOSE_API_KEY", KEY)
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", TOKEN)
    server = RecordingServer()
    with MockServer(server) as running:
        yield server, running.origin + "/api/v1"


def test_safe_mode_sends_no_contract_valid_authenticated_request(recording, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    code = main(["--base-url", base_url, "--quiet"])
    output = capsys.readouterr().out
    authenticated = [r for r in server.requests if r.authorization in REAL]
    assert authenticated, "the run sent no authenticated request at all: it tested nothing"
    assert [r.body for r in authenticated if r.method == "POST" and contract_valid(r.body)] == []
    # The server rented on an invalid request: the guard stopped every authenticated request after it.
    assert sum(1 for r in authenticated if r.method == "POST") == 1
    assert code == 1
    assert "safe mode" in output


@pytest.mark.parametrize("cap", [0, 1, 3])
def test_full_mode_never_rents_more_than_the_cap(recording, cap: int, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    main(["--base-url", base_url, "--mode", "full", "--max-rentals", str(cap), "--quiet", "--examples", "30"])
    output = capsys.readouterr().out
    rented = [r for r in server.requests if r.authorization in REAL and r.method == "POST"]
    assert len(rented) == cap
    assert f"Rentals: {cap}" in output
    assert output.count("rented phon_recorded") == cap


def test_full_mode_against_a_real_server_requires_a_cap(recording, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    assert main(["--base-url", base_url, "--mode", "full"]) == 2
    assert "--max-rentals" in capsys.readouterr().err
    assert server.requests == []
