"""Live safety, proven against a server that rents on every request."""

from __future__ import annotations

import json

import pytest

from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.recording import RecordingServer

KEY = "canary_key_4b1d0c5e"
TOKEN = "canary_token_9f8e7d6c"


def names_a_real_country(body: bytes) -> bool:
    """Read as leniently as any server might: the first JSON value, the country's letters in capitals."""
    try:
        value, _ = json.JSONDecoder().raw_decode(body.decode("utf-8", "replace").lstrip())
    except ValueError:
        return False
    country = value.get("country") if isinstance(value, dict) else None
    if not isinstance(country, str):
        return False
    letters = "".join(char for char in country if char.isalpha()).upper()
    return bool(letters) and not letters.startswith("AQ")  # Antarctica: nobody rents numbers there


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLOSE_API_KEY", KEY)
    monkeypatch.setenv("CLOSE_BEARER_TOKEN", TOKEN)
    server = RecordingServer()
    with MockServer(server) as running:
        yield server, running.origin + "/api/v1"


def test_safe_mode_sends_nothing_that_names_a_rentable_country(recording, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    code = main(["--base-url", base_url, "--quiet"])
    output = capsys.readouterr().out
    posts = [r for r in server.requests if r.method == "POST"]
    assert posts, "the run sent no request at all: it tested nothing"
    assert [r.body for r in posts if names_a_real_country(r.body)] == []
    # This server rents even where nobody can: the guard stopped every POST after the first 2xx.
    assert len(posts) == 1
    assert "Rentals: 1" in output
    assert code == 1
    assert "safe mode" in output


@pytest.mark.parametrize("cap", [0, 1, 3])
def test_full_mode_never_rents_more_than_the_cap(recording, cap: int, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    code = main(["--base-url", base_url, "--mode", "full", "--max-rentals", str(cap), "--quiet", "--examples", "30"])
    captured = capsys.readouterr()
    rented = [r for r in server.requests if r.method == "POST"]  # this server answers every POST with 201
    assert len(rented) == cap
    assert code in (1, 2), captured.err  # it answers 201 to anything: never conformant
    assert f"Rentals: {cap}" in captured.out or code == 2
    assert captured.out.count("rented phon_recorded") == cap


def test_full_mode_against_a_real_server_requires_a_cap(recording, capsys: pytest.CaptureFixture[str]) -> None:
    server, base_url = recording
    assert main(["--base-url", base_url, "--mode", "full"]) == 2
    assert "--max-rentals" in capsys.readouterr().err
    assert server.requests == []
