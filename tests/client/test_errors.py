"""The opt-in raising mode: one hierarchy, no secrets in messages; transport failures never retried."""

from __future__ import annotations

import httpx
import pytest
from close_phone_numbers_client import (
    AuthenticationFailed,
    RateLimitExceeded,
    RequestRefused,
    TransportFailed,
    UnexpectedResponse,
)
from close_phone_numbers_client.models import PhoneNumber, RefusalStatus

from conformance import contract
from tests.client.odd import NO_WAIT, call, client_for

MODES = ["sync", "async"]
RENTED = contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"]


@pytest.mark.parametrize("mode", MODES)
def test_success_returns_the_phone_number(mode: str) -> None:
    client = client_for(lambda r: httpx.Response(201, json=RENTED), raise_errors=True)
    assert isinstance(call(client, mode, detailed=False), PhoneNumber)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"status": "error", "error": "Unknown API key."}, AuthenticationFailed),
        (400, {"status": "has-voice-only", "error": "voice only"}, RequestRefused),
        (403, {"status": "error", "error": "no permission"}, RequestRefused),
        (404, {"status": "error", "error": "nothing"}, RequestRefused),
        (429, {"error": {"message": "slow down", "rate_reset": 0.0}}, RateLimitExceeded),
    ],
)
def test_refusals_raise_the_documented_exception(mode: str, status: int, body: dict, expected: type[Exception]) -> None:
    client = client_for(lambda r: httpx.Response(status, json=body), raise_errors=True, retry=NO_WAIT)
    with pytest.raises(expected) as raised:
        call(client, mode, detailed=False)
    assert isinstance(raised.value, RequestRefused)
    assert raised.value.status_code == status
    assert "canary_key_123" not in str(raised.value)


@pytest.mark.parametrize("mode", MODES)
def test_validation_refusals_carry_status_error_and_field_errors(mode: str) -> None:
    body = {"status": "error", "error": "Invalid", "errors": [], "field-errors": {"prefix": "too long"}}
    client = client_for(lambda r: httpx.Response(400, json=body), raise_errors=True)
    with pytest.raises(RequestRefused) as raised:
        call(client, mode, detailed=False)
    assert raised.value.status is RefusalStatus.ERROR
    assert raised.value.error == "Invalid"
    assert raised.value.field_errors == {"prefix": "too long"}


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_outside_the_contract_is_unexpected_response(mode: str) -> None:
    client = client_for(lambda r: httpx.Response(502, text="<html>bad gateway</html>"), raise_errors=True)
    with pytest.raises(UnexpectedResponse) as raised:
        call(client, mode, detailed=False)
    assert raised.value.content == b"<html>bad gateway</html>"


@pytest.mark.parametrize("mode", MODES)
def test_a_connection_that_never_opened_is_transport_failed_and_unsent(mode: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransportFailed) as raised:
        call(client_for(refuse), mode)
    assert raised.value.may_have_reached_server is False


@pytest.mark.parametrize("mode", MODES)
def test_a_timeout_after_sending_is_never_retried(mode: str) -> None:
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransportFailed) as raised:
        call(client_for(slow, retry=NO_WAIT), mode)
    assert raised.value.may_have_reached_server is True
    assert len(calls) == 1
