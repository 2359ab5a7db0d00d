"""Retrieving and releasing a number: the rental's guarantees, and retries because both are idempotent.

No answer crashes `get_phone_number` or `delete_phone_number`; 429 waits are bounded; with
`raise_errors` refusals raise the documented exceptions. Unlike the rental, both are sent again
after a timeout, a dropped connection or a 5xx, within `RetryPolicy.idempotent_retries`.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from close_phone_numbers_client import (
    AuthenticatedClient,
    AuthenticationFailed,
    RateLimitExceeded,
    RequestRefused,
    RetryPolicy,
    TransportFailed,
    UnexpectedResponse,
)
from close_phone_numbers_client.api.phone_numbers import (
    delete_phone_number,
    get_phone_number,
    request_internal_phone_number,
)
from close_phone_numbers_client.models import (
    DeletedPhoneNumber,
    NotFound,
    PhoneNumber,
    PhoneNumberRequest,
    RefusalStatus,
)

from conformance import contract
from conformance.mock import MockServer, build
from tests.client.odd import NO_WAIT, call, call_number, client_for

MODES = ["sync", "async"]
OPERATIONS = [get_phone_number, delete_phone_number]
NAMES = ["get", "delete"]
RENTED = contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"]
NEVER_AGAIN = RetryPolicy(idempotent_retries=0, max_retries=0)


def answering(*answers: httpx.Response | httpx.TransportError):
    """A handler giving these answers in turn (the last one again and again), and the requests it saw."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, httpx.TransportError):
            raise type(answer)(str(answer), request=request)
        return answer

    return handler, calls


# -- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("operation", "method"), list(zip(OPERATIONS, ["GET", "DELETE"], strict=True)), ids=NAMES)
def test_the_id_goes_in_the_path_percent_encoded(operation, method: str) -> None:
    handler, calls = answering(httpx.Response(404, json={"error": "no"}))
    call_number(operation, client_for(handler), "sync", number_id="phon_a/b?c=d e")
    assert calls[0].method == method
    assert calls[0].url.raw_path == b"/api/v1/phone_number/phon_a%2Fb%3Fc%3Dd%20e/"
    assert calls[0].headers["authorization"].startswith("Basic ")
    assert calls[0].content == b""


# -- any answer comes back ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (499, b"client closed request", "text/plain"),
        (520, b"", "text/plain"),
        (500, b"<html><body>Internal Server Error</body></html>", "text/html"),
        (404, b"<html>Not Found</html>", "text/html"),
        (200, b"", "application/json"),
        (200, b'{"id": "phon_1", "number": "+1650', "application/json"),
        (200, b"[1, 2, 3]", "application/json"),
        (200, b'"released"', "application/json"),
        (204, b"", "text/plain"),
        (302, b"", "text/plain"),
    ],
    ids=["499", "520", "500-html", "404-html", "200-empty", "200-truncated", "200-list", "200-string", "204", "302"],
)
def test_odd_answers_come_back_as_responses(mode: str, operation, status: int, body: bytes, content_type: str) -> None:
    handler, _ = answering(httpx.Response(status, content=body, headers={"content-type": content_type}))
    response = call_number(operation, client_for(handler, retry=NEVER_AGAIN), mode)
    assert int(response.status_code) == status
    assert response.content == body
    assert response.headers["content-type"] == content_type
    assert response.parsed is None
    assert response.parse_error


@pytest.mark.parametrize("mode", MODES)
def test_get_parses_the_phone_number_and_keeps_unknown_fields(mode: str) -> None:
    handler, _ = answering(httpx.Response(200, json={**RENTED, "dialer_mode": "power"}))
    number = call_number(get_phone_number, client_for(handler), mode, how="plain")
    assert isinstance(number, PhoneNumber)
    assert number.id == RENTED["id"]
    assert number.additional_properties == {"dialer_mode": "power"}


@pytest.mark.parametrize("mode", MODES)
def test_get_with_a_missing_required_field_is_a_parse_error_not_a_crash(mode: str) -> None:
    body = {key: value for key, value in RENTED.items() if key != "number"}
    handler, _ = answering(httpx.Response(200, json=body))
    response = call_number(get_phone_number, client_for(handler), mode)
    assert response.parsed is None
    assert "KeyError" in response.parse_error


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
def test_404_of_closes_general_error_shape_parses(mode: str, operation) -> None:
    handler, _ = answering(httpx.Response(404, json={"error": "No such phone number."}))
    found = call_number(operation, client_for(handler), mode, how="plain")
    assert isinstance(found, NotFound)
    assert found.error == "No such phone number."


@pytest.mark.parametrize("mode", MODES)
def test_delete_success_readings_parse(mode: str) -> None:
    for body, extra in (({}, {}), ({"success": True}, {"success": True})):
        handler, _ = answering(httpx.Response(200, json=body))
        released = call_number(delete_phone_number, client_for(handler), mode, how="plain")
        assert isinstance(released, DeletedPhoneNumber)
        assert released.additional_properties == extra


# -- raise_errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
@pytest.mark.parametrize(
    "case",
    [
        (401, {"status": "error", "error": "Unknown API key."}, AuthenticationFailed, RefusalStatus.ERROR),
        (403, {"status": "error", "error": "Not yours."}, RequestRefused, RefusalStatus.ERROR),
        (404, {"error": "No such phone number."}, RequestRefused, None),
        (404, {"status": "error", "error": "No such phone number."}, RequestRefused, RefusalStatus.ERROR),
        (404, {"status": "gone-forever", "error": "No such phone number."}, RequestRefused, "gone-forever"),
        (429, {"error": {"message": "slow down", "rate_reset": 0.0}}, RateLimitExceeded, "rate-limited"),
    ],
    ids=["401", "403", "404-error", "404-refusal-shape", "404-new-status", "429"],
)
def test_refusals_raise_the_documented_exception(mode: str, operation, case: tuple) -> None:
    status, body, expected, refusal_status = case
    if status == 403 and operation is get_phone_number:
        expected, refusal_status = UnexpectedResponse, None  # retrieving documents no 403
    handler, _ = answering(httpx.Response(status, json=body))
    client = client_for(handler, raise_errors=True, retry=NO_WAIT)
    for how in ("plain", "or_raise"):
        with pytest.raises(expected) as raised:
            call_number(operation, client, mode, how=how)
        assert raised.value.status_code == status
        assert getattr(raised.value, "status", None) == refusal_status
        assert "canary_key_123" not in str(raised.value)
        assert " None:" not in str(raised.value)


@pytest.mark.parametrize("mode", MODES)
def test_any_2xx_to_delete_is_a_release(mode: str) -> None:
    for answer in (httpx.Response(204), httpx.Response(200, json={"success": True}), httpx.Response(202, text="ok")):
        handler, _ = answering(answer)
        released = call_number(delete_phone_number, client_for(handler), mode, how="or_raise")
        assert isinstance(released, DeletedPhoneNumber)
        handler, _ = answering(answer)
        assert isinstance(
            call_number(delete_phone_number, client_for(handler, raise_errors=True), mode, how="plain"),
            DeletedPhoneNumber,
        )


@pytest.mark.parametrize("mode", MODES)
def test_a_get_success_without_a_phone_number_is_unexpected(mode: str) -> None:
    handler, _ = answering(httpx.Response(204))
    with pytest.raises(UnexpectedResponse):
        call_number(get_phone_number, client_for(handler), mode, how="or_raise")


# -- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"),
                                     httpx.ConnectError("refused"), httpx.ReadError("reset")],
                         ids=["read-timeout", "dropped", "connect", "reset"])  # fmt: skip
def test_a_transport_failure_is_retried_with_backoff(mode: str, operation, failure, slept: list[float]) -> None:
    success = httpx.Response(200, json=RENTED if operation is get_phone_number else {})
    handler, calls = answering(failure, failure, success)
    response = call_number(operation, client_for(handler), mode)
    assert int(response.status_code) == 200
    assert response.parse_error is None
    assert response.attempts == 3
    assert len(calls) == 3
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
def test_transport_retries_are_bounded_then_transport_failed(mode: str, operation, slept: list[float]) -> None:
    handler, calls = answering(httpx.ReadTimeout("slow"))
    client = client_for(handler, retry=RetryPolicy(idempotent_retries=3, idempotent_backoff=0.1))
    with pytest.raises(TransportFailed) as raised:
        call_number(operation, client, mode)
    assert len(calls) == 4
    assert slept == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.4)]
    assert raised.value.may_have_reached_server is True
    assert "after 4 attempts" in str(raised.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_a_5xx_is_retried_then_the_last_answer_returned(mode: str, operation, status: int, slept: list[float]) -> None:
    handler, calls = answering(httpx.Response(status, text="<html>down</html>"))
    response = call_number(operation, client_for(handler), mode)
    assert int(response.status_code) == status
    assert response.attempts == 3
    assert len(calls) == 3
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("mode", MODES)
def test_a_5xx_retry_after_is_honoured_and_a_too_long_one_ends_the_retries(mode: str, slept: list[float]) -> None:
    handler, calls = answering(httpx.Response(503, headers={"retry-after": "7"}), httpx.Response(200, json={}))
    assert call_number(delete_phone_number, client_for(handler), mode).attempts == 2
    assert slept == [7.0]
    handler, calls = answering(httpx.Response(503, headers={"retry-after": "3600"}))
    assert call_number(delete_phone_number, client_for(handler), mode).attempts == 1
    assert len(calls) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
def test_idempotent_retries_zero_switches_them_off(mode: str, operation, slept: list[float]) -> None:
    handler, calls = answering(httpx.Response(503))
    assert call_number(operation, client_for(handler, retry=RetryPolicy(idempotent_retries=0)), mode).attempts == 1
    handler, calls = answering(httpx.ReadTimeout("slow"))
    with pytest.raises(TransportFailed):
        call_number(operation, client_for(handler, retry=RetryPolicy(idempotent_retries=0)), mode)
    assert len(calls) == 1
    assert slept == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
def test_429_and_failures_are_counted_apart(mode: str, operation, slept: list[float]) -> None:
    limited = httpx.Response(429, headers={"retry-after": "2"}, json={"error": {"message": "slow", "rate_reset": 2}})
    handler, _ = answering(limited, httpx.Response(502), limited, httpx.Response(404, json={"error": "gone"}))
    response = call_number(operation, client_for(handler), mode)
    assert int(response.status_code) == 404
    assert response.attempts == 4
    assert slept == [2.0, 0.5, 2.0]


@pytest.mark.parametrize("mode", MODES)
def test_a_request_that_cannot_be_written_is_not_retried(mode: str, slept: list[float]) -> None:
    handler, calls = answering(httpx.LocalProtocolError("bad header"))
    with pytest.raises(TransportFailed) as raised:
        call_number(delete_phone_number, client_for(handler), mode)
    assert raised.value.may_have_reached_server is False
    assert len(calls) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")])
def test_the_rental_is_still_never_retried_after_a_failure(mode: str, failure, slept: list[float]) -> None:
    handler, calls = answering(failure, httpx.Response(201, json=RENTED))
    with pytest.raises(TransportFailed):
        call(client_for(handler), mode)
    assert len(calls) == 1
    assert slept == []


@pytest.mark.parametrize("mode", MODES)
def test_a_body_that_cannot_be_decoded_is_transport_failed_not_an_httpx_error(mode: str, slept: list[float]) -> None:
    calls: list[httpx.Request] = []

    def broken_gzip(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        status = 201 if request.method == "POST" else 200
        return httpx.Response(status, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))

    for operation in OPERATIONS:
        with pytest.raises(TransportFailed) as raised:
            call_number(operation, client_for(broken_gzip), mode)
        assert raised.value.may_have_reached_server is True
    with pytest.raises(TransportFailed):
        call(client_for(broken_gzip), mode)
    assert len(calls) == 3  # not a network flake: never retried


def test_the_policys_failure_waits() -> None:
    policy = RetryPolicy(idempotent_retries=70, idempotent_backoff=0.5, max_wait=60.0)
    assert [policy.wait_after_failure(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert policy.wait_after_failure(70) == 60.0  # capped, and no overflow however many retries
    assert policy.wait_after_failure(71) is None
    asked = httpx.Response(503, headers={"retry-after": "4"})
    assert policy.wait_after_failure(1, asked) == 4.0
    assert policy.wait_after_failure(1, httpx.Response(503, headers={"retry-after": "nonsense"})) == 0.5
    assert policy.wait_after_failure(1, httpx.Response(503, headers={"retry-after": "61"})) is None


# -- against the mock -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mock_url():
    with MockServer(build()) as mock:
        yield mock.origin + "/api/v1"


def test_rent_retrieve_release_against_the_mock(mock_url: str) -> None:
    with AuthenticatedClient.from_api_key(mock_url, "mock_admin_key") as client:
        rented = request_internal_phone_number.sync_or_raise(client=client, body=PhoneNumberRequest(country="US"))
        assert get_phone_number.sync_or_raise(rented.id, client=client).to_dict() == rented.to_dict()
        assert isinstance(delete_phone_number.sync_or_raise(rented.id, client=client), DeletedPhoneNumber)
        for operation in OPERATIONS:
            gone = operation.sync_detailed(rented.id, client=client)
            assert gone.status_code == 404
            assert isinstance(gone.parsed, NotFound)


def test_a_member_may_not_delete_the_admins_number(mock_url: str) -> None:
    with AuthenticatedClient.from_api_key(mock_url, "mock_admin_key") as admin:
        rented = request_internal_phone_number.sync_or_raise(client=admin, body=PhoneNumberRequest(country="US"))
    with AuthenticatedClient.from_api_key(mock_url, "mock_member_key", raise_errors=True) as member:
        with pytest.raises(RequestRefused) as raised:
            delete_phone_number.sync(rented.id, client=member)
        assert raised.value.status_code == 403
        assert isinstance(get_phone_number.sync(rented.id, client=member), PhoneNumber)


def test_a_delete_whose_answer_was_lost_is_retried_and_answers_404(
    mock_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first DELETE reaches the mock and releases the number; its answer is lost on the way back."""
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)  # not asyncio.sleep: the mock's loop needs it
    with AuthenticatedClient.from_api_key(mock_url, "mock_admin_key") as client:
        rented = request_internal_phone_number.sync_or_raise(client=client, body=PhoneNumberRequest(country="CA"))
    real = httpx.Client(base_url=mock_url, auth=("mock_admin_key", ""))
    lost: list[httpx.Response] = []

    def forward(request: httpx.Request) -> httpx.Response:
        answer = real.send(real.build_request(request.method, str(request.url), headers={}))
        if not lost:
            lost.append(answer)
            raise httpx.RemoteProtocolError("connection closed in the middle of the answer", request=request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    client = AuthenticatedClient.from_api_key(mock_url, "mock_admin_key")
    client.set_httpx_client(httpx.Client(base_url=mock_url, transport=httpx.MockTransport(forward)))
    response = delete_phone_number.sync_detailed(rented.id, client=client)
    real.close()
    assert lost[0].status_code == 200  # the first attempt released it
    assert response.status_code == 404
    assert response.attempts == 2
    assert isinstance(response.parsed, NotFound)
    assert json.loads(response.content)["error"]
