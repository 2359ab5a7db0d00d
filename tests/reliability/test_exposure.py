"""Exposure: loopback by default, a loud warning elsewhere, credentials only to the given host."""

from __future__ import annotations

import socket

import httpx
import pytest
import uvicorn

from conformance.mock import cli
from conformance.mock.server import MockServer
from conformance.suite.cli import main
from tests.suite.recording import RecordingServer


def test_the_mock_binds_to_loopback_by_default() -> None:
    args = cli.parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"


def test_binding_elsewhere_warns_loudly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Bind loopback for real but let the CLI believe it was asked for every interface.
    monkeypatch.setattr(cli, "listen", lambda host, port: socket.create_server(("127.0.0.1", 0)))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0  # noqa: S104 - the value under test
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert "exposes the mock" in err


class Redirecting:
    """Answers every request with a redirect to another host (127.0.0.2)."""

    def __init__(self, target: str) -> None:
        self.target = target

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send(
            {
                "type": "http.response.start",
                "status": 307,
                "headers": [(b"location", (self.target + scope["path"]).encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def test_the_suite_never_sends_credentials_to_another_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", "canary_key_redirect")
    elsewhere = RecordingServer()
    with MockServer(elsewhere, host="127.0.0.2") as other:
        assert httpx.post(other.origin + "/reachable").status_code == 201  # the other host is really there
        elsewhere.requests.clear()
        with MockServer(Redirecting(other.origin)) as redirecting:
            code = main(["--base-url", redirecting.origin + "/api/v1", "--quiet", "--examples", "10"])
    out = capsys.readouterr().out
    assert code == 1  # redirects everywhere are violations
    assert "307" in out
    assert elsewhere.requests == []  # nothing followed the redirect, with or without credentials
