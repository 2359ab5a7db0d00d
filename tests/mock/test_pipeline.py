"""Each stage of the mock's pipeline answers in the contract's error shape and changes nothing."""

from __future__ import annotations

import base64

import httpx
import pytest

from conformance import contract
from conformance.mock import scenario as scenarios
from conformance.mock.pipeline import DRAIN_BYTES
from conformance.mock.server import MockServer
from tests.conftest import ADMIN, ENDPOINT, rent
from tests.mock.answers import assert_number_answer, get, number_url, rented

VALID = {"country": "US", "sharing": "personal", "prefix": "650"}
MAX_BODY_BYTES = scenarios.load().readings().setting("body-limit")  # the contract reading's: 64 KiB


def rentals(client: httpx.Client) -> int:
    return int(client.get("/__mock__/rentals").json()["count"])


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"wrong_key:").decode(),
        "Basic %%%",
        "Basic " + base64.b64encode(b"mock_admin_key").decode(),  # no colon
        "Basic " + base64.b64encode(b"mock_admin_key:secret").decode(),  # non-empty password
        "Bearer wrong_token",
        "Bearer ",
        "Token mock_admin_key",
    ],
)
def test_missing_malformed_or_unknown_credentials_get_401_with_challenge(
    client: httpx.Client, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = client.post(ENDPOINT, json=VALID, headers=headers)
    assert response.status_code == 401
    assert "Basic" in response.headers["www-authenticate"]
    assert response.json()["status"] == "error"
    assert rentals(client) == 0


def test_api_key_with_basic_and_token_with_bearer_both_rent(client: httpx.Client) -> None:
    assert rent(client, VALID).status_code == 201
    response = client.post(ENDPOINT, json=VALID, headers={"authorization": "Bearer mock_oauth_token"})
    assert response.status_code == 201
    assert response.json()["user_id"] == "user_mockAdmin"


def test_two_authorization_headers_are_refused(client: httpx.Client) -> None:
    headers = [("authorization", "Bearer mock_oauth_token"), ("authorization", "Bearer mock_oauth_token")]
    response = client.post(ENDPOINT, json=VALID, headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
def test_a_body_not_sent_as_json_gets_415(client: httpx.Client, content_type: str) -> None:
    response = client.post(
        ENDPOINT,
        content=b'{"country":"US","sharing":"personal"}',
        auth=("mock_admin_key", ""),
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert rentals(client) == 0


def test_json_with_charset_and_vendor_json_types_are_accepted(client: httpx.Client) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.close+json"):
        response = client.post(
            ENDPOINT,
            content=b'{"country":"US","sharing":"personal"}',
            auth=("mock_admin_key", ""),
            headers={"content-type": content_type},
        )
        assert response.status_code == 201


def test_a_body_over_64_kib_gets_413(client: httpx.Client) -> None:
    body = {"country": "US", "sharing": "personal", "bundle_id": "x" * MAX_BODY_BYTES}
    assert rent(client, body).status_code == 413
    assert rentals(client) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"",
        b'{"country": "US", "sharing": "personal", "prefix": NaN}',
        b'{"country": "US", "country": "US", "sharing": "personal"}',
        b"\xff\xfe",
        b'{"country": "\\ud800", "sharing": "personal"}',
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["truncated", "empty", "NaN", "duplicate-key", "not-utf8", "lone-surrogate", "deep-nesting"],
)
def test_malformed_json_gets_400(client: httpx.Client, raw: bytes) -> None:
    response = client.post(
        ENDPOINT, content=raw, auth=("mock_admin_key", ""), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert rentals(client) == 0


def test_validation_failures_name_every_bad_field(client: httpx.Client) -> None:
    body = {"country": "us", "sharing": "everyone", "prefix": "1234567", "with_sms": "yes", "colour": "red"}
    response = rent(client, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "error"
    assert set(answer["field-errors"]) == {"country", "sharing", "prefix", "with_sms", "colour"}
    assert rentals(client) == 0


def test_mms_without_sms_is_a_validation_failure_from_the_contracts_rule(client: httpx.Client) -> None:
    response = rent(client, {"country": "US", "sharing": "personal", "with_mms": True, "with_sms": False})
    assert response.status_code == 400
    assert "with_sms" in response.json()["field-errors"]
    assert "with_mms" in response.json()["field-errors"]["with_sms"]


def test_missing_required_fields_are_named(client: httpx.Client) -> None:
    response = rent(client, {})
    assert set(response.json()["field-errors"]) == set(contract.today().request_schema()["required"]) == {"country"}


def test_a_body_that_is_not_an_object_is_refused(client: httpx.Client) -> None:
    response = rent(client, ["US"])
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_with_allow(client: httpx.Client, method: str) -> None:
    response = client.request(method, ENDPOINT)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_unknown_paths_get_404_in_the_error_shape(client: httpx.Client) -> None:
    response = client.post("/api/v1/phone_number/request/internal")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


# -- a number's GET and DELETE: route -> authenticate -> rate limit -> (body dropped) -> the operation


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(
    "authorization",
    [None, "Basic " + base64.b64encode(b"wrong_key:").decode(), "Bearer wrong_token", "Token mock_admin_key"],
)
def test_a_numbers_calls_need_credentials_401_with_challenge(
    client: httpx.Client, method: str, authorization: str | None
) -> None:
    number = rented(client)
    headers = {"authorization": authorization} if authorization else {}
    response = client.request(method, number_url(number["id"]), headers=headers)
    assert response.status_code == 401
    assert "Basic" in response.headers["www-authenticate"]
    assert_number_answer(response)
    assert get(client, number["id"]).status_code == 200  # not released


def test_get_returns_exactly_what_the_rental_returned(client: httpx.Client) -> None:
    created = rent(client, VALID)
    found = get(client, created.json()["id"])
    assert found.status_code == 200
    assert found.content == created.content
    assert_number_answer(found)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_numbers_calls_are_rate_limited_with_the_rentals_429(method: str) -> None:
    from conformance.mock import build

    app = build(rate_limit=2)
    with MockServer(app) as mock, httpx.Client(base_url=mock.origin, auth=ADMIN) as http:
        number = http.post(ENDPOINT, json=VALID).json()
        answers = [http.request(method, number_url(number["id"])) for _ in range(3)]
    assert answers[-1].status_code == 429
    assert {"ratelimit", "retry-after"} <= set(answers[-1].headers)
    assert_number_answer(answers[-1])


@pytest.mark.parametrize(
    "body",
    [b'{"country": "US"}', b"not json at all", b"\xff\xfe" * 10, b"x" * (MAX_BODY_BYTES * 3)],
    ids=["json", "garbage", "binary", "over-the-rentals-limit"],
)
def test_a_body_on_get_or_delete_is_dropped(client: httpx.Client, body: bytes) -> None:
    number = rented(client)
    found = client.request("GET", number_url(number["id"]), content=body, auth=ADMIN)
    assert found.status_code == 200
    released = client.request("DELETE", number_url(number["id"]), content=body, auth=ADMIN)
    assert released.status_code == 200
    assert released.json() == {}


def test_a_body_declared_larger_than_the_drain_is_not_read_and_still_answered(served) -> None:
    with httpx.Client(base_url=served.origin, auth=ADMIN) as http:
        number = http.post(ENDPOINT, json=VALID).json()
        response = http.request(
            "GET", number_url(number["id"]), content=b"x" * (DRAIN_BYTES + 10), headers={"content-type": "text/plain"}
        )
    assert response.status_code == 200
