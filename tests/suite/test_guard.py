"""The guard on its own: money rules, ids it may touch, numbering, timeouts, what it answers."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conformance import contract
from conformance.mock import build
from conformance.mock.server import MockServer
from conformance.suite.credentials import PLACEHOLDER_ANY, Secrets, basic
from conformance.suite.exchange import Exchange, NotSent
from conformance.suite.guard import Guard, Policy
from conformance.suite.safety import UNRENTABLE_ID
from tests.suite.recording import RecordingServer

ENDPOINT = "/api/v1/phone_number/request/internal/"
SECRETS = Secrets("mock_admin_key", "mock_oauth_token", "both")


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
                    assert isinstance(forward(guard, body, authorization, content_type), NotSent)
        assert server.requests == []
        sent = forward(guard, {"country": "AQ", "prefix": "650"}, basic(PLACEHOLDER_ANY))
        assert guard.ledger.not_sent  # what was held back is listed, with why ...
        assert all("safe mode" in held.reason for held in guard.ledger.not_sent)
        assert [e.number for e in guard.exchanges] == [1]  # ... and is never an exchange
    assert isinstance(sent, Exchange)
    assert sent.rented
    assert len(server.requests) == 1
    with Guard(base_url, SECRETS, Policy("safe", None), contract.today()) as guard:
        forward(guard, {"country": "AQ"})
        assert isinstance(forward(guard, {"country": "AQ"}), NotSent)  # ... and after one 2xx, no POST goes out


def test_full_mode_cap_is_hard_and_counts_unauthenticated_2xx(recording) -> None:
    server, base_url = recording
    with Guard(base_url, SECRETS, Policy("full", 2), contract.today()) as guard:
        outcomes = [forward(guard, {"country": "US"}) for _ in range(4)]  # no credentials at all
    assert [isinstance(o, Exchange) and o.rented for o in outcomes] == [True, True, False, False]
    assert all("rental cap" in o.reason for o in outcomes[2:] if isinstance(o, NotSent))
    assert len(server.requests) == 2


def test_exchanges_get_distinct_numbers_under_concurrency() -> None:
    with (
        MockServer(build()) as mock,
        Guard(mock.origin + "/api/v1", SECRETS, Policy("full", None), contract.today()) as guard,
    ):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: forward(guard, {"country": "AQ"}, basic(PLACEHOLDER_ANY)), range(64)))
        numbers = [exchange.number for exchange in guard.exchanges]
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
            url = guard.base_url + "/phone_number/request/internal/"
            answer = httpx.post(url, json={"country": "US"}, timeout=5)  # a request maker's view
        release.set()
    assert isinstance(first, Exchange)
    assert first.failure == "timeout"
    assert first.server_failure
    assert isinstance(second, NotSent)
    assert "rental cap" in second.reason
    assert answer.status_code == 599
    assert "no answer through the conformance guard" in answer.json()["error"]


def test_the_guard_answers_its_client_even_when_the_server_is_gone() -> None:
    with MockServer(build()) as mock:
        base_url = mock.origin + "/api/v1"
    with Guard(base_url, SECRETS, Policy("safe", None, timeout=1), contract.today()) as guard:
        url = guard.base_url + "/phone_number/request/internal/"
        answers = [httpx.post(url, json={"country": "AQ"}, timeout=5) for _ in range(6)]  # safe: sent
        assert guard.unreachable
        assert "stopped answering" in guard.unreachable
        assert guard.exchanges == []  # nothing reached a server: not an exchange
    assert {answer.status_code for answer in answers} == {599}


def _number_path(number_id: str) -> str:
    return f"/api/v1/phone_number/{number_id}/"


@pytest.mark.parametrize("mode", ["safe", "full"])
def test_no_read_or_release_of_a_number_the_run_did_not_rent(recording, mode: str) -> None:
    server, base_url = recording
    cap = None if mode == "safe" else 5
    with Guard(base_url, SECRETS, Policy(mode, cap), contract.today()) as guard:
        for method in ("GET", "DELETE", "PUT", "PATCH"):
            for number_id in ("phon_4XrFk2P0e8bV1cQz9mWyTn", "phon_someoneElse1", "phon_x"):
                headers = [("authorization", basic(PLACEHOLDER_ANY))]
                outcome = guard.forward(method, _number_path(number_id), headers, b"")
                assert isinstance(outcome, NotSent), (method, number_id)
                assert "did not rent" in outcome.reason
        assert server.requests == []
        # An id no number can have may be read and released in every mode.
        for method in ("GET", "DELETE"):
            sent = guard.forward(method, _number_path(UNRENTABLE_ID), [], b"")
            assert isinstance(sent, Exchange)
    assert [request.method for request in server.requests] == ["GET", "DELETE"]


def test_full_mode_releases_what_it_rented_even_after_the_deadline(recording) -> None:
    server, base_url = recording
    policy = Policy("full", 5, deadline=time.monotonic() + 60)
    with Guard(base_url, SECRETS, policy, contract.today()) as guard:
        rented = forward(guard, {"country": "US"}, basic(PLACEHOLDER_ANY))
        assert isinstance(rented, Exchange)
        number_id = rented.rental_id()
        assert guard.ledger.rented_ids == {number_id}
        policy.deadline = time.monotonic() - 1  # the deadline passes
        assert isinstance(forward(guard, {"country": "US"}, basic(PLACEHOLDER_ANY)), NotSent)
        path = _number_path(number_id)
        assert isinstance(guard.forward("GET", path, [], b""), NotSent)  # an ordinary read: too late
        released = guard.forward("DELETE", path, [("authorization", basic(PLACEHOLDER_ANY))], b"", releasing=True)
        assert isinstance(released, Exchange)
    assert guard.ledger.released_ids == {number_id}
    assert [r.method for r in server.requests] == ["POST", "DELETE"]


def test_credentials_reach_the_server_but_never_the_record(recording) -> None:
    server, base_url = recording
    with Guard(base_url, SECRETS, Policy("safe", None), contract.today()) as guard:
        sent = forward(guard, {"country": "AQ"}, basic(PLACEHOLDER_ANY))
        unknown = forward(guard, {"country": "AQ"}, basic("conformance-unknown-key"))
    assert isinstance(sent, Exchange)
    assert server.requests[0].authorization == basic("mock_admin_key")
    assert "mock_admin_key" not in json.dumps(sent.headers)
    assert sent.auth == "real"
    assert sent.scheme == "basic"
    assert isinstance(unknown, Exchange) or unknown.reason  # safe mode stops after the first 2xx


def test_schemathesis_bookkeeping_and_hop_by_hop_headers_do_not_go_out(recording) -> None:
    _server, base_url = recording
    with Guard(base_url, SECRETS, Policy("full", None), contract.today()) as guard:
        headers = [
            ("content-type", "application/json"), ("x-schemathesis-testcaseid", "abc"),
            ("connection", "keep-alive, x-hop"), ("x-hop", "1"), ("keep-alive", "timeout=5"), ("te", "trailers"),
        ]  # fmt: skip
        exchange = guard.forward("POST", ENDPOINT, headers, b'{"country": "AQ"}')
    assert isinstance(exchange, Exchange)
    kept = {name.lower() for name, _ in exchange.headers}
    assert kept == {"content-type"}
