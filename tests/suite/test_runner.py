"""The active run's own steps: its target, the preflight that fails fast, the voice-only retries, assign_to lists."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance import contract as contracts
from conformance.errors import CannotTest
from conformance.mock.scenario import default_credentials
from conformance.serving import Server
from conformance.suite import runner
from conformance.suite.credentials import Secrets, basic
from conformance.suite.exchange import INVALID
from conformance.suite.guard import Guard, Policy
from conformance.suite.runner import Options
from tests.suite.recording import RecordingServer
from tests.suite.views import rental, rented

VOICE_ONLY = {"status": "has-voice-only", "error": "Only voice numbers here; retry with with_sms set to false."}
SECRETS = Secrets("key_live_1", None, "basic")


def options(base_url: str | None = None, **changes: Any) -> Options:
    made = {"auth": "both", "mode": "full", "max_rentals": None, "examples": None, "seed": 1, "secrets": Secrets()}
    return Options(base_url, **(made | changes))


def answering(status: int, body: bytes = b"") -> Any:
    """An ASGI app that answers every request with one status and body."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.fixture
def recording() -> Iterator[tuple[RecordingServer, str]]:
    server = RecordingServer()
    with Server(server) as running:
        yield server, running.origin + "/api/v1"


# -- the target ---------------------------------------------------------------------------------


def test_without_a_base_url_the_run_targets_the_embedded_mock_with_its_own_credentials_and_member() -> None:
    with runner.target(options()) as (base_url, secrets, assignees):
        assert base_url.endswith(contracts.API_PREFIX)
        assert (secrets.api_key, secrets.bearer_token) == default_credentials()
        assert secrets.auth == "both"
        (member,) = assignees
        answer = httpx.post(base_url + "/phone_number/request/internal/", json={"country": "AQ"},
                            auth=(secrets.api_key or "", ""), timeout=10)  # fmt: skip
        assert answer.status_code == 404  # the mock itself: no number in Antarctica
        assert member.startswith("user_")


def test_the_embedded_mock_serves_the_contracts_generation() -> None:
    with runner.target(options(contract=contracts.seed())) as (base_url, secrets, _):
        seed_era = httpx.post(base_url + "/phone_number/request/internal/", json={"country": "AQ"},
                              auth=(secrets.api_key or "", ""), timeout=10)  # fmt: skip
    assert seed_era.status_code == 400  # the seed era requires sharing
    assert "sharing" in seed_era.json()["field-errors"]


def test_a_given_base_url_is_used_as_given_with_the_users_credentials_and_assignees() -> None:
    given = options("https://api.example.invalid/api/v1", secrets=SECRETS, assignees=("user_a1",))
    with runner.target(given) as (base_url, secrets, assignees):
        assert (base_url, secrets, assignees) == ("https://api.example.invalid/api/v1", SECRETS, ("user_a1",))


def test_the_assignees_given_replace_the_mocks_member() -> None:
    with runner.target(options(assignees=("user_given1",))) as (_, _, assignees):
        assert assignees == ("user_given1",)


# -- the preflight ------------------------------------------------------------------------------


def _preflight(app: Any, prefix: str = "/api/v1", **policy: Any) -> None:
    with Server(app) as server, Guard(server.origin + prefix, SECRETS, Policy("safe", None, **policy),
                                      contracts.today()) as guard:  # fmt: skip
        runner._preflight(guard)


def test_a_refusal_before_the_business_rules_passes_the_preflight() -> None:
    _preflight(answering(401, b'{"status": "error", "error": "who?"}'))
    _preflight(answering(400, b'{"status": "error", "error": "not an object"}'))


def test_a_404_at_the_base_path_fails_fast_naming_what_the_base_url_should_be() -> None:
    with pytest.raises(CannotTest) as stopped:
        _preflight(answering(404, b'{"detail": "Not Found"}'), prefix="/v2")
    said = str(stopped.value)
    assert "/v2/phone_number/request/internal/ answered 404: the endpoint is not there." in said
    assert "like https://api.close.com/api/v1 (given: /v2)" in said


def test_a_base_path_given_twice_is_named() -> None:
    with pytest.raises(CannotTest) as stopped:
        _preflight(answering(404, b'{"detail": "Not Found"}'), prefix="/api/v1/api/v1")
    assert "(given: /api/v1/api/v1; /api/v1 appears twice in it)" in str(stopped.value)
    assert runner.doubled("/api/v1") is None
    assert runner.doubled("/v1/v1") == "/v1"
    assert runner.doubled("/proxy/api/v1/api/v1/") == "/api/v1"
    assert runner.doubled("/") is None


def test_a_server_nobody_can_reach_fails_fast() -> None:
    with Server(answering(200)) as server:
        gone = server.origin
    with pytest.raises(CannotTest, match=f"cannot reach {gone}: could not connect: ConnectionRefusedError"), Guard(
        gone, SECRETS, Policy("safe", None, timeout=1), contracts.today()
    ) as guard:  # fmt: skip
        runner._preflight(guard)


def test_a_server_that_does_not_answer_in_time_fails_fast() -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            while (await receive())["type"] != "http.disconnect":
                pass

    with pytest.raises(CannotTest, match=r"cannot reach .*: TimeoutError"):
        _preflight(silent, timeout=0.3)


def test_an_interrupted_run_sends_no_preflight() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(CannotTest, match=r"the run was interrupted \(SIGINT or SIGTERM\)"):
        _preflight(answering(401), stop=stop)


# -- the voice-only retries ---------------------------------------------------------------------


def test_each_has_voice_only_asks_once_for_its_retry_with_sms_false(recording) -> None:
    server, base_url = recording
    with Guard(base_url, SECRETS, Policy("full", None), contracts.today()) as guard:
        guard.ledger.exchanges += [
            rental({"country": "GB", "prefix": "20"}, 400, VOICE_ONLY),
            rental({"prefix": "20", "country": "GB"}, 400, VOICE_ONLY),  # the same retry: sent once
            rental({"country": "US", "with_sms": True, "with_mms": True}, 400, VOICE_ONLY),
            rental({"country": "GB", "with_sms": False}, 400, VOICE_ONLY),  # already the retry
            rental({"country": "GB", "prefix": "21"}, 400, VOICE_ONLY, auth=INVALID),  # not the run's credentials
            rental({"country": "gb"}, 400, VOICE_ONLY),  # an invalid request: no retry of it
            rental({"country": "GB", "prefix": "22"}, 404, {"status": "error", "error": "none"}),
        ]
        runner._retry_voice_only(guard, contracts.today())
        retries = [exchange for exchange in guard.exchanges if exchange.probe == "retry after has-voice-only"]
    assert [json.loads(request.body) for request in server.requests] == [
        {"country": "GB", "prefix": "20", "with_sms": False},
        {"country": "US", "with_sms": False},
    ]
    assert {request.authorization for request in server.requests} == {basic("key_live_1")}
    assert {request.path for request in server.requests} == {"/api/v1/phone_number/request/internal/"}
    assert all(exchange.follow_up for exchange in retries)
    assert len(retries) == 2


# -- assign_to lists ------------------------------------------------------------------------------


def _assign_lists(assignees: tuple[str, ...], *exchanges: Any) -> tuple[tuple[str, ...], ...]:
    with Guard("http://127.0.0.1:9/api/v1", SECRETS, Policy("full", None), contracts.today()) as guard:
        guard.ledger.exchanges += list(exchanges)
        return runner._assign_lists(guard, assignees)


def test_assign_to_names_the_requester_first_then_one_assignee() -> None:
    made = [rental(None, 404, {"status": "error", "error": "x"}), rental(response=rented(user_id="user_me1"))]
    assert _assign_lists(("user_a1", "user_me1"), *made) == (("user_me1", "user_a1"), ("user_me1",))


def test_without_a_rental_that_names_its_owner_each_assignee_stands_alone() -> None:
    assert _assign_lists(("user_a1", "user_b2"), rental(response=rented(user_id=None))) == (("user_a1",), ("user_b2",))
    assert _assign_lists(("user_a1",)) == (("user_a1",),)
    assert _assign_lists(()) == ()
