"""The guard on its own: bodies, numbering, money rules, timeouts."""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.guard import Guard, Policy, read_body, relayed
from tests.suite.recording import RecordingServer

ENDPOINT = "/api/v1/phone_number/request/internal/"
SECRETS = Secrets("mock_admin_key", "mock_oauth_token", "both")


def test_a_chunked_body_is_read_whole() -> None:
    stream = io.BytesIO(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert read_body(stream, "chunked", None) == b"hello world"


def test_a_body_with_content_length_is_read_to_its_length() -> None:
    assert read_body(io.BytesIO(b"abcdef"), "", "3") == b"abc"


@pytest.fixture
def recording():
    server = RecordingServer()
    with MockServer(server) as running:
        yield server, running.origin + "/api/v1"


def forward(guard: Guard, body: dict | bytes, authorization: str | None = None, content_type: str = "application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = [("content-type", content_type)] + ([("authorization", authorization)] if authorization else [])
    return guard.forward("POST", ENDPOINT, headers, raw)


def test_safe_mode_never_sends_a_body_naming_a_real_country_whatever_the_headers(recording) -> None:
    server, base_url = recording
    with Guard(base_url, SECRETS, Policy("safe", None), contract.today()) as guard:
        for authorization in (None, basic(PLACEHOLDER_ANY), "Bearer someone-else"):
            for content_type in ("application/json", "text/plain"):
                for body in ({"country": "US"}, {"country": "us", "x": 1}, b'{"country": "GB"} trailing'):
                    assert forward(guard, body, authorization, content_type).blocked
        assert server.requests == []
        sent = forward(guard, {"country": "AQ", "prefix": "650"}, basic(PLACEHOLDER_ANY))
    assert sent.sent
    assert sent.rented
    assert len(server.requests) == 1
    with Guard(base_url, SECRETS, Policy("safe", None), contract.today()) as guard:
        forward(guard, {"country": "AQ"})
        assert forward(guard, {"country": "AQ"}).blocked  # ... and after one 2xx, no POST goes out


def test_full_mode_cap_is_hard_and_counts_unauthenticated_2xx(recording) -> None:
    server, base_url = recording
    with Guard(base_url, SECRETS, Policy("full", 2), contract.today()) as guard:
        outcomes = [forward(guard, {"country": "US"}) for _ in range(4)]  # no credentials at all
    assert [o.rented for o in outcomes] == [True, True, False, False]
    assert len(server.requests) == 2


def test_exchanges_get_distinct_numbers_under_concurrency() -> None:
    with (
        MockServer(build()) as mock,
        Guard(mock.origin + "/api/v1", SECRETS, Policy("full", None), contract.today()) as guard,
    ):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: forward(guard, {"country": "AQ"}, basic(PLACEHOLDER_ANY)), range(64)))
        numbers = [exchange.number for exchange in guard.snapshot()]
    assert sorted(numbers) == list(range(1, 65))


def test_a_timeout_is_a_server_failure_and_counts_against_the_cap_in_full_mode() -> None:
    release = threading.Event()

    async def never(scope, receive, send):
        if scope["type"] == "http":
            await receive()
            while not release.is_set():
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

    with MockServer(never) as server:
        policy = Policy("full", 1, timeout=0.3)
        with Guard(server.origin + "/api/v1", SECRETS, policy, contract.today()) as guard:
            first = forward(guard, {"country": "US"}, basic(PLACEHOLDER_ANY))
            second = forward(guard, {"country": "US"}, basic(PLACEHOLDER_ANY))
        release.set()
    assert first.failure == "timeout"
    assert first.server_failure
    assert first.may_have_reached
    assert second.blocked
    assert "rental cap" in second.blocked
    status, headers, payload = relayed(first)
    assert status == 599
    assert ("x-conformance-guard", "timeout") in headers
    assert b"no answer" in payload


def test_the_guard_answers_its_client_even_when_the_server_is_gone() -> None:
    with MockServer(build()) as mock:
        base_url = mock.origin + "/api/v1"
    with Guard(base_url, SECRETS, Policy("safe", None, timeout=1), contract.today()) as guard:
        url = guard.base_url + "/phone_number/request/internal/"
        answers = [httpx.post(url, json={"country": "AQ"}, timeout=5) for _ in range(6)]  # safe: sent
        assert guard.unreachable
        assert "stopped answering" in guard.unreachable
    assert {answer.status_code for answer in answers} == {599}
