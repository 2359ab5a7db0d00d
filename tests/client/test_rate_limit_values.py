"""Any Retry-After / RateLimit / rate_reset value gives a bounded wait or none, never an exception."""

from __future__ import annotations

import math

import httpx
import pytest
from close_phone_numbers_client import AuthenticatedClient, RetryPolicy
from close_phone_numbers_client.api.phone_numbers import request_internal_phone_number
from close_phone_numbers_client.client import requested_wait
from close_phone_numbers_client.models import PhoneNumberRequest

ODD_RETRY_AFTER = [
    "Wed, 21 Oct 2015 07:28:00 GMT",  # an HTTP-date in the past
    "Fri, 31 Dec 2099 23:59:59 GMT",  # an HTTP-date far ahead
    "Wed, 21 Oct 2015 07:28:00",  # an HTTP-date without a zone
    "soon",
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-5",
    "1e400",
    "99999999999999999999",
    "0x10",
    "12 seconds",
    "Mon, 99 Foo 2020 99:99:99 GMT",
]
ODD_RATELIMIT = ["limit=1, remaining=0, reset=nan", "limit=1; remaining=0; reset=1e999", "garbage", "reset=-3"]
ODD_RATE_RESET = ["nan", "inf", -1, 1e308, None, [], {}, "x", True]


def answer(headers: dict[str, str], body: object = None) -> httpx.Response:
    payload = {"error": {"message": "slow down", "rate_reset": body}} if body is not None else {"error": "x"}
    return httpx.Response(429, headers=headers, json=payload)


@pytest.mark.parametrize("value", ODD_RETRY_AFTER)
def test_retry_after_values_never_raise(value: str) -> None:
    wait = requested_wait(answer({"retry-after": value}))
    assert wait is None or math.isfinite(wait)
    bounded = RetryPolicy(max_wait=5.0).wait_for(answer({"retry-after": value}))
    assert bounded is None or 0.0 <= bounded <= 5.0


@pytest.mark.parametrize("value", ODD_RATELIMIT)
def test_ratelimit_values_never_raise(value: str) -> None:
    bounded = RetryPolicy(max_wait=5.0).wait_for(answer({"ratelimit": value}))
    assert bounded is None or 0.0 <= bounded <= 5.0


@pytest.mark.parametrize("value", ODD_RATE_RESET, ids=repr)
def test_rate_reset_values_never_raise(value: object) -> None:
    bounded = RetryPolicy(max_wait=5.0).wait_for(httpx.Response(429, json={"error": {"rate_reset": value}}))
    assert bounded is None or 0.0 <= bounded <= 5.0


def test_a_nan_rate_reset_in_the_body_never_raises() -> None:
    response = httpx.Response(429, content=b'{"error": {"rate_reset": NaN}}')
    assert RetryPolicy().wait_for(response) == RetryPolicy().default_wait


@pytest.mark.parametrize("value", ["nan", "inf", "soon", "Fri, 31 Dec 2099 23:59:59 GMT"])
def test_sync_detailed_returns_the_429_instead_of_crashing(value: str) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": value}, json={"error": {"message": "x", "rate_reset": 0}})

    client = AuthenticatedClient.from_api_key(
        "http://mock/api/v1", "k", retry=RetryPolicy(max_retries=2, max_wait=0.01, default_wait=0.0)
    ).set_httpx_client(httpx.Client(transport=httpx.MockTransport(handler), base_url="http://mock/api/v1"))
    response = request_internal_phone_number.sync_detailed(client=client, body=PhoneNumberRequest(country="US"))
    assert int(response.status_code) == 429
    assert 1 <= len(calls) <= 3
