"""No answer crashes a call: any status, any body gives a response with the raw parts."""

from __future__ import annotations

import json

import httpx
import pytest
from close_phone_numbers_client.models import PhoneNumber, Refusal, RefusalStatus

from conformance import contract
from tests.client.odd import call, client_for

RENTED = contract.load()["components"]["examples"]["RentedPhoneNumber"]["value"]
MODES = ["sync", "async"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (499, b"client closed request", "text/plain"),
        (520, b"", "text/plain"),
        (500, b"<html><body>Internal Server Error</body></html>", "text/html"),
        (400, b"<html>Bad gateway page from a proxy</html>", "text/html"),
        (201, b"", "application/json"),
        (201, b'{"id": "phon_1", "number": "+1650', "application/json"),
        (201, json.dumps({k: v for k, v in RENTED.items() if k != "number"}).encode(), "application/json"),
        (400, b"[1, 2, 3]", "application/json"),
        (302, b"", "text/plain"),
    ],
    ids=["499", "520", "500-html", "400-html", "201-empty", "201-truncated", "201-missing-field", "400-list", "302"],
)
def test_odd_answers_come_back_as_responses(mode: str, status: int, body: bytes, content_type: str) -> None:
    client = client_for(lambda request: httpx.Response(status, content=body, headers={"content-type": content_type}))
    response = call(client, mode)
    assert int(response.status_code) == status
    assert response.content == body
    assert response.headers["content-type"] == content_type
    assert response.parsed is None
    assert response.parse_error


@pytest.mark.parametrize("mode", MODES)
def test_a_good_rental_with_an_extra_field_parses_and_keeps_the_extra(mode: str) -> None:
    body = {**RENTED, "dialer_mode": "power"}  # a property Close might add tomorrow
    client = client_for(lambda request: httpx.Response(201, json=body))
    response = call(client, mode)
    assert isinstance(response.parsed, PhoneNumber)
    assert response.parsed.additional_properties == {"dialer_mode": "power"}
    assert response.parse_error is None


@pytest.mark.parametrize("mode", MODES)
def test_a_refusal_with_a_new_status_keeps_the_string(mode: str) -> None:
    client = client_for(lambda request: httpx.Response(400, json={"status": "needs-verification", "error": "new"}))
    refusal = call(client, mode, detailed=False)
    assert isinstance(refusal, Refusal)
    assert refusal.status == "needs-verification"
    assert not isinstance(refusal.status, RefusalStatus)


@pytest.mark.parametrize("mode", MODES)
def test_a_known_refusal_status_is_the_enum_member(mode: str) -> None:
    client = client_for(lambda request: httpx.Response(400, json={"status": "billing-error", "error": "budget"}))
    refusal = call(client, mode, detailed=False)
    assert refusal.status is RefusalStatus.BILLING_ERROR
